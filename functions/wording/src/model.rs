//! The learned model and its byte format (written by `build.rs`, read once at run time).
//!
//! Layout, little-endian: `LMW1`, the class count, each class as a length-prefixed string
//! with its training-report count and bias, the term count, then each term as a
//! length-prefixed string with its idf and one weight per class.

use std::collections::HashMap;

const MAGIC: &[u8; 4] = b"LMW1";

/// One linear scorer per class over tf-idf term vectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Model {
    /// Class ids, sorted.
    pub classes: Vec<String>,
    /// How many training reports each class had.
    pub reports: Vec<u32>,
    /// Each class's bias.
    pub bias: Vec<f32>,
    /// The vocabulary, sorted.
    pub terms: Vec<String>,
    /// Each term's idf.
    pub idf: Vec<f32>,
    /// Term-major weights: `weights[term * classes.len() + class]`.
    pub weights: Vec<f32>,
}

impl Model {
    /// The bytes `decode` reads back.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.weights.len() * 4 + self.terms.len() * 24);
        out.extend_from_slice(MAGIC);
        put_u32(&mut out, self.classes.len() as u32);
        for ((class, &reports), &bias) in self.classes.iter().zip(&self.reports).zip(&self.bias) {
            put_str(&mut out, class);
            put_u32(&mut out, reports);
            out.extend_from_slice(&bias.to_le_bytes());
        }
        put_u32(&mut out, self.terms.len() as u32);
        let width = self.classes.len();
        for (i, term) in self.terms.iter().enumerate() {
            put_str(&mut out, term);
            out.extend_from_slice(&self.idf[i].to_le_bytes());
            for w in &self.weights[i * width..(i + 1) * width] {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out
    }

    /// Reads what `encode` wrote; `None` when the bytes are not a whole model.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let mut r = Reader(bytes);
        if r.take(4)? != MAGIC {
            return None;
        }
        let n = r.u32()? as usize;
        let (mut classes, mut reports, mut bias) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..n {
            classes.push(r.str()?);
            reports.push(r.u32()?);
            bias.push(r.f32()?);
        }
        let terms_len = r.u32()? as usize;
        let (mut terms, mut idf) = (Vec::new(), Vec::new());
        let mut weights = Vec::new();
        for _ in 0..terms_len {
            terms.push(r.str()?);
            idf.push(r.f32()?);
            for _ in 0..n {
                weights.push(r.f32()?);
            }
        }
        r.0.is_empty().then_some(Self {
            classes,
            reports,
            bias,
            terms,
            idf,
            weights,
        })
    }

    /// Term → index, for reading texts.
    pub fn index(&self) -> HashMap<String, u32> {
        self.terms
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i as u32))
            .collect()
    }
}

fn put_u32(out: &mut Vec<u8>, n: u32) {
    out.extend_from_slice(&n.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn f32(&mut self) -> Option<f32> {
        Some(f32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn str(&mut self) -> Option<String> {
        let len = u16::from_le_bytes(self.take(2)?.try_into().ok()?) as usize;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}
