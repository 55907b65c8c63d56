use super::*;

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap()
}

#[test]
fn parses_every_suffix_family() {
    assert_eq!(q("500m"), Quantity::from_millis(500));
    assert_eq!(q("0.5"), Quantity::from_millis(500));
    assert_eq!(q(".5"), Quantity::from_millis(500));
    assert_eq!(q("2"), Quantity::from_units(2));
    assert_eq!(q("1k"), Quantity::from_units(1000));
    assert_eq!(q("1M"), Quantity::from_units(1_000_000));
    assert_eq!(q("1G"), Quantity::from_units(1_000_000_000));
    assert_eq!(q("1T"), Quantity::from_units(1_000_000_000_000));
    assert_eq!(q("1Ki"), Quantity::from_units(1024));
    assert_eq!(q("1Mi"), Quantity::from_units(1 << 20));
    assert_eq!(q("1.5Gi"), Quantity::from_units(3 << 29));
    assert_eq!(q("2Ti"), Quantity::from_units(2 << 40));
    assert_eq!(q("1Ei"), Quantity::from_units(1 << 60));
    assert_eq!(q("100n"), Quantity::from_nanos(100));
    assert_eq!(q("3u"), Quantity::from_nanos(3000));
    assert_eq!(q("+7"), Quantity::from_units(7));
    assert_eq!(q("-1"), Quantity::from_units(-1));
}

#[test]
fn parses_decimal_exponents() {
    assert_eq!(q("1e3"), Quantity::from_units(1000));
    assert_eq!(q("1E3"), Quantity::from_units(1000));
    assert_eq!(q("12e-3"), Quantity::from_millis(12));
    assert_eq!(q("1.5e2"), Quantity::from_units(150));
    assert_eq!(q("128974848"), Quantity::from_units(128_974_848));
    assert_eq!(q("129e6"), Quantity::from_units(129_000_000));
    assert_eq!(q("123Mi"), Quantity::from_units(123 * (1 << 20)));
}

#[test]
fn finer_than_nano_rounds_up_like_the_api_server() {
    assert_eq!(q("0.1n"), Quantity::from_nanos(1));
    assert_eq!(q("1e-12"), Quantity::from_nanos(1));
}

#[test]
fn rejects_garbage_without_panicking() {
    for bad in [
        "",
        "m",
        "Gi",
        "1.2.3",
        "1Zi",
        "1e",
        "1e999",
        "abc",
        "1 Gi",
        "--1",
        "99999999999999999999999999999999999Ei",
    ] {
        assert!(Quantity::parse(bad).is_err(), "{bad:?} parsed");
    }
}

#[test]
fn mixed_units_compare_exactly() {
    assert!(q("1Gi") > q("1G"));
    assert_eq!(q("1024Mi"), q("1Gi"));
    assert_eq!(q("0.25"), q("250m"));
    assert_eq!(q("300m") + q("200m"), q("0.5"));
    assert_eq!(q("1Gi") - q("512Mi"), q("0.5Gi"));
}

#[test]
fn displays_like_a_person_writes() {
    assert_eq!(q("3.5Gi").display_for("memory"), "3.5Gi");
    assert_eq!(q("3584Mi").display_for("requests.memory"), "3.5Gi");
    assert_eq!(q("512Mi").display_for("memory"), "512Mi");
    assert_eq!(q("1000").display_for("memory"), "1000");
    assert_eq!(q("0.5").display_for("cpu"), "500m");
    assert_eq!(q("2000m").display_for("limits.cpu"), "2");
    assert_eq!(q("3").display_for("pods"), "3");
    assert_eq!(q("1.25Gi").display_for("memory"), "1.25Gi");
}

#[test]
fn floor_never_exceeds_the_value() {
    let free = q("3.7Gi");
    let f = free.floor_for("memory");
    assert!(f <= free);
    assert_eq!(f.display_for("memory"), "3788Mi");
    assert_eq!(q("1234567n").floor_for("cpu"), Quantity::from_millis(1));
}
