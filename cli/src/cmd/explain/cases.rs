//! Real failure reports run through intake and every registered function: the first
//! diagnosis should be one the report accepts.
//!
//! Two sets are scored:
//! - `tests/fixtures/real-failures-dev.jsonl` (a copy of `shared/cases`), the development set;
//! - `tests/fixtures/corpus/{tune,heldout}.jsonl` (issue 15), reports gathered from public
//!   threads. Rules may be tuned against `tune` only; `heldout` is never read to write a rule,
//!   so its figure is the one that says how `explain` does on reports it has not seen. The
//!   split is fixed by a hash of each case's id (see the corpus README), checked below.
//!
//! Hit rates are asserted as floors, not exact numbers: the functions keep improving, and a
//! few reports are misleading by design (their surface text points elsewhere than the
//! cause). Accuracy per class family and per class, with every miss, is printed:
//! `cargo test -p lastmile cases -- --nocapture`.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use lastmile_events::Class;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::explain;

#[derive(Debug, Deserialize)]
struct Case {
    id: String,
    accept: Vec<String>,
    input: String,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Where the dev reports live: `LASTMILE_CASES`, else the copy in `tests/fixtures/`.
fn dev_path() -> PathBuf {
    std::env::var_os("LASTMILE_CASES")
        .map(Into::into)
        .unwrap_or_else(|| fixtures().join("real-failures-dev.jsonl"))
}

fn corpus_path(split: &str) -> PathBuf {
    fixtures().join("corpus").join(format!("{split}.jsonl"))
}

fn load(path: &Path) -> Vec<Case> {
    let Ok(raw) = std::fs::read_to_string(path) else {
        panic!("{} is missing", path.display());
    };
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), n + 1))
        })
        .collect()
}

/// Hits and totals of one scored set: overall, per family and per class (the class of a
/// case is the first one it accepts, the class its thread's cause belongs to).
#[derive(Debug, Default)]
struct Score {
    hits: usize,
    total: usize,
    families: BTreeMap<String, (usize, usize)>,
    classes: BTreeMap<String, (usize, usize)>,
    misses: Vec<String>,
}

impl Score {
    fn rate(&self) -> f64 {
        ratio(self.hits, self.total)
    }

    fn family_rate(&self, family: &str) -> Option<f64> {
        self.families.get(family).map(|&(h, t)| ratio(h, t))
    }

    /// The table `--nocapture` shows: families, then classes, then misses.
    fn render(&self, name: &str) -> String {
        let mut out = format!(
            "{name}: {}/{} first-diagnosis hits ({:.0}%)\n  by family:\n",
            self.hits,
            self.total,
            self.rate() * 100.0
        );
        for (family, &(h, t)) in &self.families {
            out.push_str(&format!(
                "    {family:<12} {h:>3}/{t:<3} {:>4.0}%\n",
                ratio(h, t) * 100.0
            ));
        }
        out.push_str("  by class:\n");
        for (class, &(h, t)) in &self.classes {
            out.push_str(&format!(
                "    {class:<36} {h:>3}/{t:<3} {:>4.0}%\n",
                ratio(h, t) * 100.0
            ));
        }
        if !self.misses.is_empty() {
            out.push_str(&format!("  misses:\n{}\n", self.misses.join("\n")));
        }
        out
    }
}

fn ratio(hits: usize, total: usize) -> f64 {
    if total == 0 {
        1.0
    } else {
        hits as f64 / total as f64
    }
}

fn family(class: &str) -> &str {
    class.split('.').next().unwrap_or(class)
}

async fn score(cases: &[Case]) -> Score {
    let mut s = Score::default();
    for case in cases {
        let explained = explain(case.input.as_bytes(), None).await.unwrap();
        let first = explained[0].diagnoses[0].class.as_str().to_owned();
        let ok = case.accept.contains(&first);
        let class = case.accept[0].clone();
        s.total += 1;
        s.hits += usize::from(ok);
        let fam = s.families.entry(family(&class).to_owned()).or_default();
        fam.0 += usize::from(ok);
        fam.1 += 1;
        let cls = s.classes.entry(class).or_default();
        cls.0 += usize::from(ok);
        cls.1 += 1;
        if !ok {
            s.misses.push(format!(
                "    {:<52} got {:<36} want {}",
                case.id,
                first,
                case.accept.join("|")
            ));
        }
    }
    s
}

/// Overall floor across every dev case (all functions).
const MIN_HIT_RATE: f64 = 0.85;
/// Floor for the dev init / job / build cases, which the workload and build functions own.
const MIN_WORKLOAD_BUILD_HIT_RATE: f64 = 1.0;

#[tokio::test]
async fn real_failure_reports_get_an_accepted_first_class() {
    let path = dev_path();
    let cases = load(&path);
    assert!(cases.len() >= 10, "too few cases in {}", path.display());
    let s = score(&cases).await;
    let own: (usize, usize) = ["init", "job", "build"]
        .iter()
        .filter_map(|f| s.families.get(*f))
        .fold((0, 0), |a, &(h, t)| (a.0 + h, a.1 + t));
    crate::outln!("{}", s.render("dev"));
    let own_rate = ratio(own.0, own.1);
    assert!(
        own_rate >= MIN_WORKLOAD_BUILD_HIT_RATE,
        "dev init/job/build hit rate {own_rate:.2} < {MIN_WORKLOAD_BUILD_HIT_RATE}\n{}",
        s.misses.join("\n")
    );
    assert!(
        s.rate() >= MIN_HIT_RATE,
        "dev hit rate {:.2} < {MIN_HIT_RATE}\n{}",
        s.rate(),
        s.misses.join("\n")
    );
}

/// Floors for the corpus: lower bounds of what was measured when the corpus was last
/// extended (`tests/fixtures/corpus/README.md` has the figures), with two cases of slack
/// overall and one per family, so a regression fails while one flaky case does not. Raise
/// them as rules improve; never lower them to make a change pass.
/// Tune re-measured when batch 36 was added (2026-12-07): 1973/1984; after batch 35:
/// 1941/1951; after batch 34:
/// 1889/1899 (1825/1831 after batches 29-33, 1631/1636 after 27-28); scheduling 356/360
/// then took its floor to 0.98: the new
/// reports' one unresolved scheduling case (a Job's pod whose autoscaler verdict and
/// scheduler reasons both name the pod's constraints) is left open. The `wording`
/// model learned from every tune report, and a lead may contest a rule's finding without
/// conviction, so tune says little about unseen reports; heldout does.
const TUNE_FLOORS: Floors = Floors {
    overall: 0.98,
    families: &[
        ("admission", 0.99),
        ("build", 0.99),
        ("image", 0.97),
        ("init", 0.94),
        ("job", 0.97),
        ("runtime", 0.98),
        ("scaling", 0.97),
        ("scheduling", 0.98),
    ],
};
/// Batch 39 (2026-12-08, 96 blind reports, all families, scored blind at 83/96, init 18/23;
/// 34 joined heldout, 28/34 right blind, 27/34 after the model learned the tune part, the
/// same after its rule round): heldout 960/1070 (90%), init 132/160 (82.5%: the floor
/// follows to 0.82), job 133/169.
/// Batch 38 (2026-12-08, 92 blind reports scored blind at 72/92, job 30/41, init 18/24; 27
/// joined heldout, 17/27 right blind, 18/27 after the model learned the tune part, the same
/// after its rule round): heldout 931/1036 (90%), job 129/164, init 128/153 (83.7%: the
/// floor follows to 0.83); the older held-out reports 883 → 891 of 981 with the model
/// learning the tune part, none with the rules (not read).
/// Batch 37 (2026-12-08, 93 blind reports scored blind at 73/93, job 26/36, init 17/24; 28
/// joined heldout, 19/28 right blind, 22/28 after its rule round): heldout 905/1009 (90%),
/// init 123/145, scheduling 152/177, job 116/153. The new reports took init and scheduling
/// below their floors (84.8%, 85.9%), which follow with the slack above (init 0.84,
/// scheduling 0.85); the older held-out reports 886 → 883 of 981 with the model learning
/// the tune part and the rules (not read).
/// Batch 36 (2026-12-07, 46 blind reports scored blind at 36/46, job 5/14; 13 joined heldout,
/// 12/13 right blind and after its rule round): heldout 886/981 (90%), job 110/146; no floor
/// moved.
/// Batch 35 (2026-12-07, 75 blind reports scored blind at 54/75, init 5/10, job 10/17; 23
/// joined heldout, 15/23 right blind and after its rule round): heldout 871/968 (90.0%),
/// init 115/134, scheduling 149/172, runtime 133/140. The new reports took overall, init
/// and scheduling below their floors and runtime onto its own; the floors follow the
/// measurement with the slack above (overall 0.89, init 0.85, scheduling 0.86, runtime
/// 0.94). One older held-out report changed reading as the model learned the tune part
/// (856 of the 945 before; not read).
/// Batch 34 (2026-12-07, 96 blind reports scored blind at 76/96, job 13/21; 28 joined
/// heldout) and its rule round: heldout 857/945 (91%), job 108/141; no floor moved.
/// Re-measured when batches 29-33 were added (2026-12-07, 303 blind reports weighted toward
/// job, init and scheduling, scored blind at 73-83% each; 108 joined heldout): heldout
/// 834/917 (91%), job 105/137 the weakest family. The floors follow the measurement with
/// the slack above: the new reports moved overall, image, job and runtime below their old
/// floors, and so did the `wording` model learning batch 33's tune part (three earlier
/// held-out reports changed reading with it; none was read). Before: batches 27-28
/// (72 blind reports, job, init and scheduling; 24 joined heldout): heldout 744/809 (92%),
/// job 74/95. Before them, batches 21-26 (2026-12-07, 301 blind reports, weighted toward
/// job, init, scheduling, image and runtime; 108 joined heldout): heldout 729/785 (93%), job
/// 66/84 the weakest family. Before them, batches 17-20 (183 blind reports) took heldout to
/// 630/677 (93%), with the ranking that lets a wording lead contest a rule's finding without
/// conviction (576 -> 580 of the 616 before the batches). Earlier: batches 14-16 took heldout
/// to 576/616; the `wording` function (a classifier learned from the tune split only) moved
/// heldout from 418 to 477 of 509 with rules unchanged. Before it, rule work on tune misses
/// moved heldout from 261 to 266 of 315 (batch 6), 288 to 291 of 340 (7), 318 to 319 of 373
/// (8), 328 to 330 of 388 (9), not at all on batch 10's (356 of 428), from 376 to 378 of 457
/// on batch 11's, not at all on batch 12's (395 of 478) nor on batch 13's (418 of 509).
const HELDOUT_FLOORS: Floors = Floors {
    overall: 0.89,
    families: &[
        ("admission", 0.98),
        ("build", 0.94),
        ("image", 0.94),
        ("init", 0.82),
        ("job", 0.75),
        ("runtime", 0.94),
        ("scaling", 0.96),
        ("scheduling", 0.85),
    ],
};

struct Floors {
    overall: f64,
    families: &'static [(&'static str, f64)],
}

fn check(name: &str, s: &Score, floors: &Floors) -> Vec<String> {
    let mut failed = Vec::new();
    if s.rate() < floors.overall {
        failed.push(format!(
            "{name}: overall {:.3} < floor {}",
            s.rate(),
            floors.overall
        ));
    }
    for &(fam, floor) in floors.families {
        let rate = s.family_rate(fam).unwrap_or(0.0);
        if rate < floor {
            failed.push(format!("{name}: {fam} {rate:.3} < floor {floor}"));
        }
    }
    failed
}

#[tokio::test]
async fn corpus_reports_get_an_accepted_first_class() {
    let tune = load(&corpus_path("tune"));
    let heldout = load(&corpus_path("heldout"));
    assert!(tune.len() >= 20 && heldout.len() >= 10, "corpus too small");
    let (t, h) = (score(&tune).await, score(&heldout).await);
    crate::outln!("{}", t.render("corpus tune"));
    crate::outln!("{}", h.render("corpus heldout (never tuned against)"));
    let mut failed = check("tune", &t, &TUNE_FLOORS);
    failed.extend(check("heldout", &h, &HELDOUT_FLOORS));
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The split rule of the corpus README: heldout iff the first byte of SHA-256(id) is
/// divisible by 3. A case in the wrong file was moved after it was seen.
fn heldout_by_rule(id: &str) -> bool {
    Sha256::digest(id.as_bytes())[0].is_multiple_of(3)
}

#[test]
fn corpus_cases_sit_in_the_split_their_id_hashes_to() {
    for (split, heldout) in [("tune", false), ("heldout", true)] {
        for case in load(&corpus_path(split)) {
            assert_eq!(
                heldout_by_rule(&case.id),
                heldout,
                "{} is in {split}.jsonl but its id hashes to the other split",
                case.id
            );
        }
    }
}

#[test]
fn every_case_accepts_only_taxonomy_classes_and_ids_are_unique() {
    let mut ids = HashSet::new();
    let paths = [
        fixtures().join("real-failures-dev.jsonl"),
        corpus_path("tune"),
        corpus_path("heldout"),
    ];
    for path in &paths {
        for case in load(path) {
            assert!(!case.accept.is_empty(), "{}: empty accept", case.id);
            for class in &case.accept {
                assert!(
                    Class::ALL.contains(&class.as_str()),
                    "{}: `{class}` ({}) is not a taxonomy class",
                    case.id,
                    path.display()
                );
            }
            assert!(ids.insert(case.id.clone()), "duplicate id {}", case.id);
        }
    }
}
