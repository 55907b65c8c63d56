//! Drift told by an unpinned resolution, in other tools' and people's words.

use lastmile_events::{Class, Subject};

use super::diagnose;

fn class(text: &str) -> Option<Class> {
    diagnose(text, &Subject::default()).map(|d| d.class)
}

/// Go refusing what `@latest` resolved, and @latest / `go get -u` installs in CI that broke
/// a build whose source did not change.
#[test]
fn an_unpinned_install_that_broke_an_unchanged_build_is_drift() {
    for text in [
        "go: golang.org/x/tools/gopls@latest: golang.org/x/tools/gopls@v0.20.0 requires go >= 1.24.2 (running go 1.22.5; GOTOOLCHAIN=local)",
        "Our Makefile runs `go install github.com/golangci/golangci-lint/cmd/golangci-lint@latest` and since this morning lint fails with a panic.",
        "- run: npx prettier@latest --check .\nThe check started failing overnight with no code changes.",
        "The GitLab job does go get -u ./... before building, and the build is now broken: undefined: yaml.Node",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    // @latest named without any failure or change is no finding.
    assert_eq!(
        class("Install it with go install example.com/tool@latest."),
        None
    );
}

/// A build broken by a dependency said to have changed upstream, or to be unpinned.
#[test]
fn a_dependency_said_to_have_changed_under_a_failing_build_is_drift() {
    for text in [
        "CI went red: a new release of the yaml library broke our build.\nmain.go:42:10: undefined: yaml.MapSlice",
        "Our deps are not pinned, so Jenkins pulled the newest client and compilation failed:\n./client.go:88: too many arguments in call to api.New",
        "upstream changed its API signature; pkg/sync/sync.go:15:2: cannot use x (type *Foo) as type Foo",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    assert_eq!(
        class("All dependencies are pinned in go.mod and the build passes."),
        None
    );
}

/// Other ways of taking the newest: a branch instead of a version, a CI action's `version:
/// latest`, an install said to be done without pinning.
#[test]
fn branch_and_latest_settings_are_unpinned() {
    for text in [
        "RUN go install github.com/acme/gen/cmd/gen@master\napi/gen.go:12:2: undefined: runtime.BindParam",
        "- uses: acme/setup-lint@v4\n  with:\n    version: latest\nThe lint step fails since yesterday.",
        "The workflow installs protoc-gen-go without pinning it, and today codegen fails with an unknown field error.",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
}

/// Two builds said to have resolved different versions of a dependency.
#[test]
fn two_builds_said_to_resolve_different_versions_is_drift() {
    for text in [
        "Two CI runs of the same commit picked up different versions of github.com/aws/aws-sdk-go-v2 and one of them fails to compile.",
        "The release pipeline resolved a newer version of grpc than my local build did.",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    assert_eq!(class("We use a different version of Go locally."), None);
}

/// An upgrade-everything step run by CI (for Go and other ecosystems), named with the
/// unvetted updates it brings: every build resolves something new. The command named
/// without that risk is no finding.
#[test]
fn a_ci_step_that_upgrades_every_dependency_is_drift() {
    for text in [
        "The nightly workflow does `cargo update` before `cargo build`, so each release picks up unreviewed crate upgrades.",
        "Our pipeline runs go get -u=patch ./... on every build, bringing in dependency bumps nobody tested.",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    assert_eq!(
        class("Run npm update locally when you want newer packages."),
        None
    );
}

/// A fetch said to carry no version (GOPATH-era `go get`, a clone of the default branch)
/// beside a failing build or test: the build takes the dependency's head. Asking for a
/// stable version of it says the same.
#[test]
fn a_fetch_without_a_version_beside_a_failure_is_drift() {
    for text in [
        "The image's RUN step fetches the nats client with a plain go get, with no version pinning, and since Monday the integration tests fail.",
        "--- FAIL: TestSync (0.31s)\n    sync_test.go:88 (0x4a1f20)\nWe should install a tagged release of the protobuf plugin instead of master.",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    assert_eq!(
        class("Use a stable version of Go for local development."),
        None
    );
}

/// A cached image build and a fresh one (`--no-cache`) said to behave differently: the
/// cached fetch layer keeps old dependency revisions. Cache named with nothing differing is
/// not it.
#[test]
fn a_cached_image_build_that_differs_from_a_fresh_one_is_drift() {
    let text = "CI builds the image from scratch and fails, but locally the cached layers still build; with docker build --no-cache I see the same failure.";
    assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    assert_eq!(
        class("We use docker layer caching in CI to speed the build up."),
        None
    );
}

/// An upgrade-everything step (or an install at the newest release) blamed for bringing in
/// incompatible releases, rather than the versions the project declares: the build takes
/// whatever is newest. The same step named without any breakage is no finding.
#[test]
fn an_upgrade_everything_step_blamed_for_incompatible_releases_is_drift() {
    for text in [
        "Our Dockerfile runs `npm update` before the build, which drags in backward-incompatible majors of packages we never asked to upgrade.",
        "Please build with the locked versions: cargo update in the release job picks up breaking releases of indirect crates.",
        "The setup script does `pip install -U` on everything, so an incompatible v3 of a sub-dependency is installed.",
    ] {
        assert_eq!(class(text), Some(Class::BuildDependencyDrift), "{text}");
    }
    for text in [
        "Run `go get -u` to refresh your local checkout of the examples.",
        "npm update is how we refresh the lockfile every sprint; v3 of the API client is planned.",
    ] {
        assert_eq!(class(text), None, "{text}");
    }
}

/// A chart or operator deployed without pinning its version drifts the deploy, not a build:
/// no build finding when nothing in the text is built. A tool installed without pinning in
/// a build still is one.
#[test]
fn a_chart_deployed_without_pinning_is_no_build_drift() {
    assert_eq!(
        class(
            "We have installed this chart for years without pinning version; after a recent change the init job fails."
        ),
        None
    );
    assert_eq!(
        class(
            "Our Dockerfile installs protoc-gen-go without pinning it, and since the new release the build fails: undefined: protoimpl.EnforceVersion"
        ),
        Some(Class::BuildDependencyDrift)
    );
}
