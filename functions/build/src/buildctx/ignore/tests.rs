use super::*;

/// (patterns, path, excluded), from Docker's documentation of `.dockerignore`
/// (docs.docker.com/build/concepts/context/#dockerignore-files) and moby's
/// patternmatcher tests.
const TABLE: &[(&str, &str, bool)] = &[
    // The documented example file.
    (
        "# comment\n*/temp*\n*/*/temp*\ntemp?",
        "somedir/temporary.txt",
        true,
    ),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "somedir/temp", true),
    (
        "# comment\n*/temp*\n*/*/temp*\ntemp?",
        "somedir/subdir/temporary.txt",
        true,
    ),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempa", true),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "tempb", true),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "temp", false),
    (
        "# comment\n*/temp*\n*/*/temp*\ntemp?",
        "temporary.txt",
        false,
    ),
    ("# comment\n*/temp*\n*/*/temp*\ntemp?", "a/b/c/temp", false),
    // `**` matches any number of directories, including zero.
    ("**/*.go", "main.go", true),
    ("**/*.go", "cmd/app/main.go", true),
    ("**/*.go", "main.gox", false),
    // Exceptions, last match wins.
    ("*.md\n!README.md", "CHANGES.md", true),
    ("*.md\n!README.md", "README.md", false),
    (
        "*.md\n!README*.md\nREADME-secret.md",
        "README-secret.md",
        true,
    ),
    (
        "*.md\n!README*.md\nREADME-secret.md",
        "README-public.md",
        false,
    ),
    (
        "*.md\nREADME-secret.md\n!README*.md",
        "README-secret.md",
        false,
    ),
    // Leading `/` and `./` are cleaned; trailing `/` too.
    ("/.git", ".git/HEAD", true),
    ("./.env", ".env", true),
    ("secrets/", "secrets/db.pem", true),
    ("a//b/../c", "a/c", true),
    // `*` does not cross `/`.
    ("*.pem", "certs/server.pem", false),
    ("*.pem", "server.pem", true),
    // A directory excludes everything under it; an exception re-includes inside it.
    ("vendor", "vendor/x/y.go", true),
    ("vendor\n!vendor/modules.txt", "vendor/modules.txt", false),
    ("vendor\n!vendor/modules.txt", "vendor/x/y.go", true),
    // Classes and escapes.
    ("file[0-9].txt", "file7.txt", true),
    ("file[^0-9].txt", "file7.txt", false),
    ("file\\*.txt", "file*.txt", true),
    ("file\\*.txt", "fileX.txt", false),
    // Comments and blanks are no patterns.
    ("# .env\n\n", ".env", false),
];

#[test]
fn dockers_documented_pattern_semantics() {
    for (patterns, path, excluded) in TABLE {
        let f = IgnoreFile::parse(patterns).unwrap();
        assert_eq!(
            f.excludes(path),
            *excluded,
            "patterns {patterns:?} on {path:?}"
        );
    }
}

#[test]
fn clean_is_go_filepath_clean_without_the_leading_slash() {
    assert_eq!(clean("./a/b/"), "a/b");
    assert_eq!(clean("/a/./b/../c"), "a/c");
    assert_eq!(clean("."), "");
}
