use super::*;

#[test]
fn ids_round_trip_through_the_enum_and_json() {
    assert_eq!(Class::KNOWN.len(), Class::ALL.len());
    for (class, id) in Class::KNOWN.iter().zip(Class::ALL) {
        assert_eq!(class.as_str(), *id);
        assert_eq!(&Class::new(id), class);
        assert!(class.is_known());
        assert!(!class.description().is_empty(), "{id} has no description");
        let json = serde_json::to_value(class).unwrap();
        assert_eq!(json, serde_json::Value::String((*id).to_owned()));
        assert_eq!(&serde_json::from_value::<Class>(json).unwrap(), class);
    }
}

#[test]
fn unknown_ids_are_kept_verbatim() {
    let class: Class = serde_json::from_str("\"runtime.future_thing\"").unwrap();
    assert_eq!(class, Class::Unrecognized("runtime.future_thing".into()));
    assert!(!class.is_known());
    assert_eq!(class.family(), "runtime");
    assert_eq!(
        serde_json::to_string(&class).unwrap(),
        "\"runtime.future_thing\""
    );
    assert!(!Class::new("image.tlsx").is_known());
}

#[test]
fn family_is_the_first_segment() {
    assert_eq!(Class::NoScaleUp.family(), "scaling");
    assert_eq!(Class::Unknown.family(), "unknown");
    assert_eq!(Class::ImageTls, "image.tls");
}

#[test]
fn every_id_is_in_the_reference_taxonomy() {
    // The reference taxonomy sits beside the checkout when it is there (the repo copy is the
    // generated docs/classes.md); each of our IDs must appear in its class table.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/taxonomy.md");
    let Ok(taxonomy) = std::fs::read_to_string(path) else {
        return;
    };
    for id in Class::ALL {
        assert!(
            taxonomy.contains(&format!("| `{id}` |")),
            "{id} is not in the taxonomy"
        );
    }
}

#[test]
fn docs_class_list_is_generated_from_the_enum() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/classes.md");
    let text = markdown_table();
    if std::env::var_os("LASTMILE_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == text,
        "docs/classes.md drifted from Class; run `LASTMILE_BLESS=1 cargo test -p lastmile-events` and commit"
    );
}
