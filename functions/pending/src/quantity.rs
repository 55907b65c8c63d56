//! Kubernetes resource quantities (`500m`, `1.5Gi`, `2e3`, `128974848`), parsed exactly.
//!
//! A quantity is held as an integer count of nano-units (value × 10⁹) in an `i128`, so
//! every suffix Kubernetes accepts (`n` … `E`, `Ki` … `Ei`, decimal exponents) adds and
//! compares without floating-point error. Like the API server, values finer than the
//! smallest unit are rounded up.

use std::fmt;

/// Nano-units per unit.
const NANO: i128 = 1_000_000_000;
/// Values are clamped to ±this so sums of many quantities cannot overflow.
const LIMIT: i128 = i128::MAX / 1_000_000;

/// A parsed quantity: `nanos` = value × 10⁹.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    nanos: i128,
}

/// Why a string is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a Kubernetes quantity: {text:?} ({why})")]
pub struct QuantityError {
    text: String,
    why: &'static str,
}

impl QuantityError {
    fn new(text: &str, why: &'static str) -> Self {
        Self {
            text: text.chars().take(64).collect(),
            why,
        }
    }
}

impl Quantity {
    /// Nothing: `0`.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// From whole units (e.g. pods, GPUs, bytes).
    pub fn from_units(units: i128) -> Self {
        Self::from_nanos(units.saturating_mul(NANO))
    }

    /// From milli-units (millicores).
    pub fn from_millis(millis: i128) -> Self {
        Self::from_nanos(millis.saturating_mul(1_000_000))
    }

    /// From nano-units.
    pub fn from_nanos(nanos: i128) -> Self {
        Self {
            nanos: nanos.clamp(-LIMIT, LIMIT),
        }
    }

    /// The value in nano-units.
    pub fn nanos(self) -> i128 {
        self.nanos
    }

    /// The value in milli-units, rounded up.
    pub fn millis_ceil(self) -> i128 {
        div_ceil(self.nanos, 1_000_000)
    }

    /// The value in whole units, rounded up (how the scheduler counts bytes and pods).
    pub fn units_ceil(self) -> i128 {
        div_ceil(self.nanos, NANO)
    }

    /// Product with an integer, saturating.
    pub fn times(self, n: i128) -> Quantity {
        Self::from_nanos(self.nanos.saturating_mul(n))
    }

    /// True when zero.
    pub fn is_zero(self) -> bool {
        self.nanos == 0
    }

    /// True when negative.
    pub fn is_negative(self) -> bool {
        self.nanos < 0
    }

    /// Parses a quantity the way the API server does (`<number><suffix>`), rounding
    /// values finer than a nano-unit up.
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(QuantityError::new(text, "empty"));
        }
        let (negative, rest) = match s.as_bytes()[0] {
            b'-' => (true, &s[1..]),
            b'+' => (false, &s[1..]),
            _ => (false, s),
        };
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_end);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(QuantityError::new(text, "no digits"));
        }
        if frac_part.contains('.') {
            return Err(QuantityError::new(text, "two decimal points"));
        }
        // Significant digits as an integer mantissa with a decimal scale.
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(QuantityError::new(text, "too many digits"));
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| QuantityError::new(text, "bad digits"))?
        };
        let mut exp10: i32 = -(frac_part.len() as i32);
        let mut binary_shift: u32 = 0;
        match suffix {
            "" => {}
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            "Ki" => binary_shift = 10,
            "Mi" => binary_shift = 20,
            "Gi" => binary_shift = 30,
            "Ti" => binary_shift = 40,
            "Pi" => binary_shift = 50,
            "Ei" => binary_shift = 60,
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..]
                    .parse()
                    .map_err(|_| QuantityError::new(text, "bad exponent"))?;
                if !(-60..=60).contains(&e) {
                    return Err(QuantityError::new(text, "exponent out of range"));
                }
                exp10 += e;
            }
            _ => return Err(QuantityError::new(text, "unknown suffix")),
        }
        // nanos = mantissa × 2^shift × 10^(exp10 + 9), rounded up.
        let scaled = mantissa
            .checked_shl(binary_shift)
            .filter(|v| v >> binary_shift == mantissa);
        let Some(mut value) = scaled else {
            return Err(QuantityError::new(text, "too large"));
        };
        let e = exp10 + 9;
        if e >= 0 {
            for _ in 0..e {
                value = value
                    .checked_mul(10)
                    .ok_or_else(|| QuantityError::new(text, "too large"))?;
            }
        } else {
            let mut divisor: i128 = 1;
            for _ in 0..(-e) {
                divisor = divisor.saturating_mul(10);
            }
            value = div_ceil(value, divisor);
        }
        let value = if value > LIMIT {
            return Err(QuantityError::new(text, "too large"));
        } else {
            value
        };
        Ok(Self {
            nanos: if negative { -value } else { value },
        })
    }

    /// Parses, treating anything unparseable as zero (for objects the API already accepted).
    pub fn parse_or_zero(text: &str) -> Quantity {
        Self::parse(text).unwrap_or_default()
    }

    /// Formats the quantity the way a person writes it for `resource`: cores or millicores
    /// for cpu, binary units for memory and storage, plain numbers for counts.
    pub fn display_for(self, resource: &str) -> String {
        if is_cpu(resource) {
            self.display_cpu()
        } else if is_bytes(resource) {
            self.display_bytes()
        } else {
            self.display_plain()
        }
    }

    /// Cores when whole, else millicores (rounded up).
    pub fn display_cpu(self) -> String {
        if self.nanos % NANO == 0 {
            format!("{}", self.nanos / NANO)
        } else {
            format!("{}m", self.millis_ceil())
        }
    }

    /// Binary units with at most two decimals when exact (`3.5Gi`), else bytes.
    pub fn display_bytes(self) -> String {
        let bytes = self.units_ceil();
        const UNITS: [(&str, i128); 6] = [
            ("Ei", 1 << 60),
            ("Pi", 1 << 50),
            ("Ti", 1 << 40),
            ("Gi", 1 << 30),
            ("Mi", 1 << 20),
            ("Ki", 1 << 10),
        ];
        for (name, size) in UNITS {
            if bytes.abs() >= size && (bytes * 100) % size == 0 {
                let hundredths = bytes * 100 / size;
                return format!("{}{name}", trim_hundredths(hundredths));
            }
        }
        format!("{bytes}")
    }

    /// Plain decimal number (up to three decimals).
    pub fn display_plain(self) -> String {
        if self.nanos % NANO == 0 {
            format!("{}", self.nanos / NANO)
        } else {
            format!("{}m", self.millis_ceil())
        }
    }

    /// A "fits in" bound for advice: rounded *down* to a unit people write
    /// (whole millicores for cpu, whole MiB for byte resources above 1Mi).
    pub fn floor_for(self, resource: &str) -> Quantity {
        if is_cpu(resource) {
            Self::from_millis(self.nanos.div_euclid(1_000_000))
        } else if is_bytes(resource) {
            let bytes = self.nanos.div_euclid(NANO);
            if bytes >= 1 << 20 {
                Self::from_units(bytes - bytes.rem_euclid(1 << 20))
            } else {
                Self::from_units(bytes)
            }
        } else {
            Self::from_units(self.nanos.div_euclid(NANO))
        }
    }
}

/// Sum, saturating.
impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, other: Quantity) -> Quantity {
        Self::from_nanos(self.nanos.saturating_add(other.nanos))
    }
}

/// Difference, saturating (may be negative).
impl std::ops::Sub for Quantity {
    type Output = Quantity;
    fn sub(self, other: Quantity) -> Quantity {
        Self::from_nanos(self.nanos.saturating_sub(other.nanos))
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_plain())
    }
}

fn trim_hundredths(h: i128) -> String {
    let (whole, frac) = (h / 100, (h % 100).abs());
    match frac {
        0 => format!("{whole}"),
        f if f % 10 == 0 => format!("{whole}.{}", f / 10),
        f => format!("{whole}.{f:02}"),
    }
}

fn div_ceil(a: i128, b: i128) -> i128 {
    if b == 0 {
        return a;
    }
    let q = a.div_euclid(b);
    if a.rem_euclid(b) == 0 { q } else { q + 1 }
}

/// True for resource names measured in cores.
pub fn is_cpu(resource: &str) -> bool {
    let r = base_resource(resource);
    r == "cpu"
}

/// True for resource names measured in bytes.
pub fn is_bytes(resource: &str) -> bool {
    let r = base_resource(resource);
    matches!(r, "memory" | "ephemeral-storage" | "storage") || r.starts_with("hugepages-")
}

/// `requests.cpu` → `cpu`, `limits.memory` → `memory`; other names unchanged.
pub fn base_resource(resource: &str) -> &str {
    resource
        .strip_prefix("requests.")
        .or_else(|| resource.strip_prefix("limits."))
        .unwrap_or(resource)
}

#[cfg(test)]
mod tests;
