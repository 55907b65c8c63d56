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

/// A release or CI step that finds the git tree dirty with go.mod/go.sum among the changed
/// files, in the output of other tools than any one report's: a GitHub Actions `git diff
/// --exit-code` step, `git status --porcelain` in a Makefile guard, a version stamped
/// `-dirty`, a Jenkins log with timestamps, a prose account.
#[test]
fn a_tree_left_dirty_by_the_module_files_is_untidy() {
    for text in [
        "Run git diff --exit-code\ndiff --stat:\nM\tgo.sum\nError: Process completed with exit code 1.",
        "make release\ntest -z \"$(git status --porcelain)\" || (echo 'working tree is dirty'; git status --porcelain; exit 1)\nworking tree is dirty\n M go.mod\nmake: *** [release] Error 1",
        "ko publish stamped the image version v0.3.1-dirty; go.sum was modified by the build step before it.",
        "12:01:02  Changes not staged for commit:\n12:01:02  \tmodified:   api/go.sum\n12:01:02  ERROR: refusing to tag a release with uncommitted changes",
        "The publish job aborts: the repository is dirty after `go mod download`, git lists changes to go.sum.",
        "- name: Check tree\n  run: git diff --name-only --exit-code\ngo.sum\nError: Process completed with exit code 1.",
        "Our release action says the working tree is not clean because go.sum changed during the build.",
    ] {
        assert_eq!(first(text), Some(Class::BuildGoModDirty), "{text}");
    }
    for text in [
        "working tree is dirty\n M README.md\n M charts/values.yaml",
        "go.sum\ngo.mod\nmain.go",
        "I committed go.sum and the release worked, the tree was clean.",
    ] {
        assert_eq!(first(text), None, "{text}");
    }
}

/// A dirty tree told in prose with the module file named beside it as what dirtied it, not
/// listed by git: other release tools and other words than any one report's.
#[test]
fn a_dirty_tree_blamed_on_the_module_files_in_words_is_untidy() {
    for text in [
        "Publishing aborted: uncommitted changes in the checkout again. Last time it was go.mod, now the culprit is `go.sum` after the prepare step.",
        "ko refuses to publish from a dirty worktree; the diff is only in go.sum, left by the generate hook.",
    ] {
        assert_eq!(first(text), Some(Class::BuildGoModDirty), "{text}");
    }
    for text in [
        "Release failed: the working tree is dirty because docs/ is regenerated; go.mod is unchanged.",
        "The tree is dirty after npm install rewrote package-lock.json.",
    ] {
        assert_eq!(first(text), None, "{text}");
    }
}

/// A release that stops on a dirty tree with the module tidying or a dependency update
/// named beside it as the cause (or its fix), without go.mod/go.sum named: other release
/// tools and other words than any one report's.
#[test]
fn a_dirty_tree_blamed_on_tidying_or_a_dependency_bump_is_untidy() {
    for text in [
        "ko publish keeps refusing: the worktree is dirty. Our verify-mod-tidy script passes, but after bumping deps the publish step stops.",
        "Added a go-mod-tidy hook before the build so the release no longer trips over dirty files.",
        "Whenever modules get upgraded by renovate the tree is left dirty and `make release` bails out.",
    ] {
        assert_eq!(first(text), Some(Class::BuildGoModDirty), "{text}");
    }
    for text in [
        "The release failed with dirty files: the changelog generator rewrote CHANGELOG.md.",
        "Please keep the codebase tidy; the tree is dirty with generated mocks.",
    ] {
        assert_eq!(first(text), None, "{text}");
    }
}
