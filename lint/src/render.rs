//! Findings as text for people, JSON for tools, GitHub workflow annotations and SARIF 2.1.0
//! for code scanning. Pure: each returns the whole output as a string.

use serde_json::{Value, json};

use crate::{Finding, RULES, Severity};

/// Readable text: one block per finding (`file:line: severity rule: message`, then the
/// cycle's edges and the fix), and a summary line.
pub fn human(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let severity = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        out.push_str(&format!(
            "{}:{}: {severity} {}: {}\n",
            f.file,
            f.line,
            f.rule,
            escape(&f.message)
        ));
        for e in &f.edges {
            out.push_str(&format!(
                "    {} → {}: {} ({}:{})\n",
                e.from,
                e.to,
                escape(&e.why),
                e.file,
                e.line
            ));
        }
        if let Some(fix) = &f.fix {
            out.push_str(&format!("    fix: {}\n", escape(fix)));
        }
    }
    out.push_str(&summary(findings));
    out.push('\n');
    out
}

/// `2 errors, 1 warning` (or `no findings`).
pub fn summary(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if findings.is_empty() {
        return "no findings".to_owned();
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

/// `{"findings": [...], "errors": N, "warnings": N}`.
pub fn json(findings: &[Finding]) -> String {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let doc = json!({
        "findings": findings,
        "errors": errors,
        "warnings": findings.len() - errors,
    });
    format!("{doc:#}\n")
}

/// GitHub Actions workflow commands: `::error file=F,line=N,title=RULE::message`, one per
/// finding (cycle edges appended to the message; newlines encoded as `%0A`).
pub fn github(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = f.message.clone();
        for e in &f.edges {
            message.push_str(&format!("\n{} → {}: {}", e.from, e.to, e.why));
        }
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nfix: {fix}"));
        }
        out.push_str(&format!(
            "::{level} file={},line={},title={}::{}\n",
            property(&f.file),
            f.line,
            property(f.rule),
            data(&message)
        ));
    }
    out
}

/// A SARIF 2.1.0 log with one run: the rule table and one result per finding (cycle edges
/// as related locations).
pub fn sarif(findings: &[Finding]) -> String {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "shortDescription": {"text": r.summary},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let location = |file: &str, line: usize| {
        json!({"physicalLocation": {
            "artifactLocation": {"uri": file},
            "region": {"startLine": line.max(1)},
        }})
    };
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let mut text = f.message.clone();
            if let Some(fix) = &f.fix {
                text.push_str(&format!(" Fix: {fix}"));
            }
            let related: Vec<Value> = f
                .edges
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let mut l = location(&e.file, e.line);
                    l["id"] = json!(i);
                    l["message"] = json!({"text": format!("{} → {}: {}", e.from, e.to, e.why)});
                    l
                })
                .collect();
            let mut result = json!({
                "ruleId": f.rule,
                "ruleIndex": RULES.iter().position(|r| r.id == f.rule),
                "level": level(f.severity),
                "message": {"text": text},
                "locations": [location(&f.file, f.line)],
            });
            if !related.is_empty() {
                result["relatedLocations"] = json!(related);
            }
            result
        })
        .collect();
    let doc = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "lastmile lint",
                "informationUri": "https://github.com/lastmile-dev/lastmile",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
    });
    format!("{doc:#}\n")
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn escape(s: &str) -> String {
    lastmile_redact::escape_control(s).into_owned()
}

/// Workflow-command data: `%`, CR and LF encoded.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Workflow-command property: data encoding plus `:` and `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
