//! From a classifier score to a confidence, or to silence.
//!
//! Bands from five-fold cross-validation on the tune split (2,427 reports, each scored by a
//! model learned from the other four folds; `cargo test -p lastmile-fn-wording five_fold
//! -- --nocapture` prints them), never from the held-out split:
//!
//! | top score | reports | right |
//! |---|---|---|
//! | 0.25 and up | 1,179 | 99 % |
//! | 0 to 0.25 | 386 | 96 % |
//! | -0.2 to 0 | 327 | 88 % |
//! | -0.4 to -0.2 | 281 | 74 % |
//! | -0.6 to -0.4 | 189 | 60 % |
//! | below -0.6 | 65 | 38 % |
//!
//! Below [`FLOOR`] the words weigh toward no class and the function stays silent (the
//! answer stays `unknown`, with what was searched). The confidences sit below those rates
//! on purpose: the model has seen words, not the cluster, and a rule that matched (0.6 and
//! up for most) should lead.

/// The most a wording lead is ever worth.
pub const HIGHEST: f64 = 0.55;
/// Below this top score there is no lead.
pub const FLOOR: f32 = -0.6;

/// The confidence of a reading scoring `score`; `None` below [`FLOOR`].
pub fn of(score: f32) -> Option<f64> {
    match score {
        s if s >= 0.25 => Some(HIGHEST),
        s if s >= 0.0 => Some(0.45),
        s if s >= -0.2 => Some(0.4),
        s if s >= -0.4 => Some(0.3),
        s if s >= FLOOR => Some(0.2),
        _ => None,
    }
}
