//! go.mod/go.sum rules on wordings other than the Go toolchain's own.

use lastmile_events::{Class, Subject};

use super::diagnose;

fn first(text: &str) -> Option<Class> {
    let subject = Subject::default();
    diagnose(text, &subject).into_iter().next().map(|d| d.class)
}

/// A CI step that runs `go mod tidy` and fails because the files changed, told in words by
/// different CI setups.
#[test]
fn a_tidy_check_that_changes_the_module_files_is_untidy() {
    for text in [
        "The lint job fails: running `go mod tidy` results in changes to go.sum that are not committed.",
        "check-mod: go mod tidy modified go.mod, please commit the result",
        "there is a diff after running go mod tidy on the release branch",
        "The mod-tidy check failed on this PR.",
        "verify fails because go.sum is out of date after the dependabot merge",
    ] {
        assert_eq!(first(text), Some(Class::BuildGoModDirty), "{text}");
    }
    for text in [
        "Run go mod tidy",
        "go mod tidy did not produce any output and the build is green",
    ] {
        assert_eq!(first(text), None, "{text}");
    }
}
