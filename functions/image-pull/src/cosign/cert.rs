//! Who signed keyless: the subject alternative name and the Fulcio OIDC-issuer extension of
//! a bundle's leaf certificate, read with a bounded DER walk (no X.509 library: nothing here
//! is trusted or verified, it only names the signer in a diagnosis).

/// `id-ce-subjectAltName` (2.5.29.17), DER content octets.
const SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// Fulcio's issuer extension v1 (1.3.6.1.4.1.57264.1.1): the raw issuer URL.
const FULCIO_ISSUER_V1: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
/// Fulcio's issuer extension v2 (1.3.6.1.4.1.57264.1.8): a DER UTF8String.
const FULCIO_ISSUER_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// Longest name kept.
const MAX_NAME: usize = 256;

/// The signer a keyless certificate names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertIdentity {
    /// First e-mail, URI or DNS subject alternative name.
    pub san: Option<String>,
    /// The OIDC issuer Fulcio recorded.
    pub issuer: Option<String>,
}

/// Reads the identity of a DER X.509 certificate; `None` when it is not one.
pub fn identity(der: &[u8]) -> Option<CertIdentity> {
    let (0x30, cert, _) = tlv(der)? else {
        return None;
    };
    let (0x30, mut tbs, _) = tlv(cert)? else {
        return None;
    };
    let mut out = CertIdentity::default();
    while !tbs.is_empty() {
        let (tag, content, rest) = tlv(tbs)?;
        tbs = rest;
        if tag != 0xa3 {
            continue;
        }
        let (0x30, mut exts, _) = tlv(content)? else {
            return None;
        };
        while !exts.is_empty() {
            let (_, ext, rest) = tlv(exts)?;
            exts = rest;
            let (0x06, oid, mut fields) = tlv(ext)? else {
                continue;
            };
            let mut value = None;
            while !fields.is_empty() {
                let (tag, content, rest) = tlv(fields)?;
                fields = rest;
                if tag == 0x04 {
                    value = Some(content);
                }
            }
            let Some(value) = value else { continue };
            match oid {
                SAN => out.san = out.san.or_else(|| first_name(value)),
                FULCIO_ISSUER_V1 => out.issuer = out.issuer.or_else(|| text(value)),
                FULCIO_ISSUER_V2 => {
                    if let Some((0x0c, s, _)) = tlv(value) {
                        out.issuer = text(s);
                    }
                }
                _ => {}
            }
        }
    }
    Some(out)
}

/// The first rfc822Name `[1]`, URI `[6]` or dNSName `[2]` of a GeneralNames sequence.
fn first_name(value: &[u8]) -> Option<String> {
    let (0x30, mut names, _) = tlv(value)? else {
        return None;
    };
    while !names.is_empty() {
        let (tag, content, rest) = tlv(names)?;
        names = rest;
        if matches!(tag, 0x81 | 0x82 | 0x86) {
            return text(content);
        }
    }
    None
}

fn text(bytes: &[u8]) -> Option<String> {
    let s = std::str::from_utf8(bytes).ok()?;
    (!s.is_empty()).then(|| s.chars().take(MAX_NAME).collect())
}

/// One DER tag-length-value: (tag, content, the bytes after it). Single-byte tags only,
/// definite lengths of up to four bytes; `None` on anything truncated or malformed.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = input
            .get(2..2 + n)?
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

#[cfg(test)]
mod tests;
