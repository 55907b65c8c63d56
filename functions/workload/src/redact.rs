//! Masks credentials in quoted command lines and log lines before they become evidence:
//! init containers often carry them inline (`curl -H 'Authorization: Bearer …'`,
//! `PGPASSWORD=… psql`, `--password=…`).

use std::sync::LazyLock;

use regex::Regex;

static SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(authorization:\s*(?:bearer|basic|token)?\s*)[^\s'"]+|(--?(?:password|passwd|pass|token|secret|api-?key|auth)[= ]\s*)[^\s'"]+|(\b[A-Z0-9_]*(?:PASSWORD|PASSWD|TOKEN|SECRET|APIKEY|API_KEY)[A-Z0-9_]*=)[^\s'"]+|(://[^/\s:@]+:)[^@\s/]+@"#,
    )
    .ok()
});

/// `text` with every recognised credential value replaced by `[REDACTED]`.
pub(crate) fn redact(text: &str) -> String {
    let Some(re) = SECRET.as_ref() else {
        return text.to_owned();
    };
    re.replace_all(text, |caps: &regex::Captures<'_>| {
        let keep = (1..=4).find_map(|i| caps.get(i)).map_or("", |m| m.as_str());
        let at = if caps.get(4).is_some() { "@" } else { "" };
        format!("{keep}[REDACTED]{at}")
    })
    .into_owned()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn credentials_in_commands_are_masked() {
        assert_eq!(
            redact(
                "until curl -sf -H 'Authorization: Bearer eyJhbGciOi.x.y' http://cfg:8888/health; do sleep 2; done"
            ),
            "until curl -sf -H 'Authorization: Bearer [REDACTED]' http://cfg:8888/health; do sleep 2; done"
        );
        assert_eq!(
            redact("PGPASSWORD=hunter2 pg_isready -h db -p 5432"),
            "PGPASSWORD=[REDACTED] pg_isready -h db -p 5432"
        );
        assert_eq!(
            redact("mysqladmin ping --password=s3cr3t -h mysql"),
            "mysqladmin ping --password=[REDACTED] -h mysql"
        );
        assert_eq!(
            redact("wget http://user:pw@orders:8080/"),
            "wget http://user:[REDACTED]@orders:8080/"
        );
        assert_eq!(
            redact("until nc -z db 5432; do sleep 1; done"),
            "until nc -z db 5432; do sleep 1; done"
        );
    }
}
