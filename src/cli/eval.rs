//! `mailtrace eval`: measures how well the spoof score separates legitimate mail (ham) from
//! phishing, on folders the analyst labels.
//!
//! Every message is analysed exactly as `inspect` would. The report gives, per label, the
//! score distribution, the share of messages at each verdict band, the ROC AUC of the score
//! (rank based, ties counted half), and the detection rate on the phishing messages that
//! impersonate someone (see [`IMPERSONATION_FINDINGS`]).

use crate::analysis::analyze;
use crate::cli::{AnalysisArgs, ExitCode};
use crate::config::AnalysisConfig;
use crate::input::{InputOptions, read_paths};
use clap::{Args, ValueEnum};
use rayon::prelude::*;
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Findings that mark a message as impersonating a brand, a person or the organisation:
/// the subset on which the impersonation detection rate is measured.
pub const IMPERSONATION_FINDINGS: &[&str] = &[
    "sender.display-name-brand",
    "sender.display-name-vip",
    "sender.lookalike-domain",
    "sender.subdomain-trick",
    "sender.mixed-script-domain",
    "sender.address-in-display-name",
    "sender.internal-domain-external-origin",
    "sender.reply-to-lookalike",
];

/// Score quantiles reported for each label.
const QUANTILES: &[u32] = &[10, 25, 50, 75, 90, 95, 99];

/// Output format of `eval`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvalFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Folders or files of legitimate mail (repeatable; several paths may follow).
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub ham: Vec<PathBuf>,
    /// Folders or files of phishing mail (repeatable; several paths may follow).
    #[arg(long, required = true, num_args = 1.., value_name = "PATH")]
    pub phish: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: EvalFormat,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

/// One analysed message, reduced to what the evaluation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scored {
    pub score: u32,
    pub impersonating: bool,
}

/// Measurements for one label.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LabelStats {
    pub messages: usize,
    /// Inputs or messages that could not be read or analysed.
    pub errors: usize,
    pub mean_score: f64,
    /// `(percentile, score)` pairs, nearest-rank method.
    pub quantiles: Vec<(u32, u32)>,
    /// Messages per score bucket of ten (`0-9`, …, `90-100`).
    pub histogram: Vec<(String, usize)>,
    /// Share of messages at verdict medium or high (score 40 or more).
    pub at_medium_or_high: f64,
    /// Share of messages at verdict high (score 70 or more).
    pub at_high: f64,
    /// Messages with an impersonation finding.
    pub impersonating: usize,
    pub impersonating_at_medium_or_high: f64,
    pub impersonating_at_high: f64,
}

/// The result of one evaluation run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub ham: LabelStats,
    pub phish: LabelStats,
    /// Probability that a random phishing message scores above a random ham message.
    pub roc_auc: f64,
}

/// Runs `eval`.
pub fn run(args: &EvalArgs) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut out = crate::cli::output::stdout()?;
    let (config, options) = args.analysis.resolve()?;
    for (flag, path) in args
        .ham
        .iter()
        .map(|p| ("--ham", p))
        .chain(args.phish.iter().map(|p| ("--phish", p)))
    {
        if !path.exists() {
            return Err(format!(
                "{flag} {} not found; give a folder or file of messages",
                path.display()
            )
            .into());
        }
    }
    let evaluation = evaluate(&args.ham, &args.phish, &config, &options);
    match args.format {
        EvalFormat::Text => write!(out, "{}", render_text(&evaluation))?,
        EvalFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&evaluation)?)?,
    }
    out.flush()?;
    for (label, stats) in [("ham", &evaluation.ham), ("phish", &evaluation.phish)] {
        if stats.messages == 0 {
            eprintln!("mailtrace: no {label} message could be read, so the ROC AUC means nothing");
            return Ok(ExitCode::Error);
        }
    }
    Ok(ExitCode::Done)
}

/// Scores both labelled sets and measures the separation.
pub fn evaluate(
    ham: &[PathBuf],
    phish: &[PathBuf],
    config: &AnalysisConfig,
    options: &InputOptions,
) -> Evaluation {
    let (ham_scored, ham_errors) = score_paths(ham, config, options);
    let (phish_scored, phish_errors) = score_paths(phish, config, options);
    let ham_scores: Vec<u32> = ham_scored.iter().map(|s| s.score).collect();
    let phish_scores: Vec<u32> = phish_scored.iter().map(|s| s.score).collect();
    Evaluation {
        roc_auc: roc_auc(&ham_scores, &phish_scores),
        ham: label_stats(&ham_scored, ham_errors),
        phish: label_stats(&phish_scored, phish_errors),
    }
}

/// Analyses every message under `paths` in parallel; returns the scores and the number of
/// inputs or messages that failed.
pub fn score_paths(
    paths: &[PathBuf],
    config: &AnalysisConfig,
    options: &InputOptions,
) -> (Vec<Scored>, usize) {
    let results: Vec<Option<Scored>> = read_paths(paths, options)
        .par_bridge()
        .map(|input| {
            let report = analyze(&input.ok()?, config).ok()?;
            let impersonating = report
                .findings
                .iter()
                .any(|f| IMPERSONATION_FINDINGS.contains(&f.id.as_str()));
            Some(Scored {
                score: report.spoof.score,
                impersonating,
            })
        })
        .collect();
    let errors = results.iter().filter(|r| r.is_none()).count();
    (results.into_iter().flatten().collect(), errors)
}

/// Computes the ROC AUC from the Mann-Whitney rank sum, with tied scores given their
/// average rank; 0.5 when either set is empty.
pub fn roc_auc(negatives: &[u32], positives: &[u32]) -> f64 {
    if negatives.is_empty() || positives.is_empty() {
        return 0.5;
    }
    let mut all: Vec<(u32, bool)> = negatives.iter().map(|s| (*s, false)).collect();
    all.extend(positives.iter().map(|s| (*s, true)));
    all.sort_unstable();

    // Average rank (1-based) of each run of equal scores, summed over the positives.
    let mut positive_rank_sum = 0.0;
    let mut start = 0;
    while start < all.len() {
        let end = start
            + all[start..]
                .iter()
                .take_while(|s| s.0 == all[start].0)
                .count();
        let average_rank = (start + 1 + end) as f64 / 2.0;
        let positives_in_run = all[start..end].iter().filter(|s| s.1).count();
        positive_rank_sum += average_rank * positives_in_run as f64;
        start = end;
    }
    let n_pos = positives.len() as f64;
    let n_neg = negatives.len() as f64;
    (positive_rank_sum - n_pos * (n_pos + 1.0) / 2.0) / (n_pos * n_neg)
}

/// Summarises the scores of one label.
pub fn label_stats(scored: &[Scored], errors: usize) -> LabelStats {
    let mut scores: Vec<u32> = scored.iter().map(|s| s.score).collect();
    scores.sort_unstable();
    let share = |items: &[Scored], min: u32| -> f64 {
        if items.is_empty() {
            return 0.0;
        }
        items.iter().filter(|s| s.score >= min).count() as f64 / items.len() as f64
    };
    let impersonating: Vec<Scored> = scored.iter().copied().filter(|s| s.impersonating).collect();
    let mut histogram = Vec::new();
    for bucket in 0..10u32 {
        let low = bucket * 10;
        let high = if bucket == 9 { 100 } else { low + 9 };
        let count = scores.iter().filter(|s| (low..=high).contains(*s)).count();
        histogram.push((format!("{low}-{high}"), count));
    }
    LabelStats {
        messages: scored.len(),
        errors,
        mean_score: if scores.is_empty() {
            0.0
        } else {
            scores.iter().map(|s| f64::from(*s)).sum::<f64>() / scores.len() as f64
        },
        quantiles: QUANTILES
            .iter()
            .map(|p| (*p, nearest_rank(&scores, *p)))
            .collect(),
        histogram,
        at_medium_or_high: share(scored, 40),
        at_high: share(scored, 70),
        impersonating: impersonating.len(),
        impersonating_at_medium_or_high: share(&impersonating, 40),
        impersonating_at_high: share(&impersonating, 70),
    }
}

/// Returns the nearest-rank percentile of sorted scores (0 for none).
fn nearest_rank(sorted: &[u32], percentile: u32) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percentile as usize * sorted.len()).div_ceil(100).max(1);
    sorted[rank.min(sorted.len()) - 1]
}

/// Renders the evaluation as a text table.
pub fn render_text(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let labels = [("ham", &evaluation.ham), ("phish", &evaluation.phish)];
    let percent = |share: f64| format!("{:.1}%", share * 100.0);
    out.push_str(&format!("ROC AUC: {:.3}\n\n", evaluation.roc_auc));
    out.push_str(
        "label  messages  errors  mean   ≥medium  high    impersonating  imp ≥medium  imp high\n",
    );
    for (name, stats) in labels {
        out.push_str(&format!(
            "{name:<6} {:>8}  {:>6}  {:>5.1}  {:>7}  {:>6}  {:>13}  {:>11}  {:>8}\n",
            stats.messages,
            stats.errors,
            stats.mean_score,
            percent(stats.at_medium_or_high),
            percent(stats.at_high),
            stats.impersonating,
            percent(stats.impersonating_at_medium_or_high),
            percent(stats.impersonating_at_high),
        ));
    }
    out.push_str("\nscore quantiles (nearest rank)\n");
    for (name, stats) in labels {
        let cells: Vec<String> = stats
            .quantiles
            .iter()
            .map(|(p, s)| format!("p{p}={s}"))
            .collect();
        out.push_str(&format!("{name:<6} {}\n", cells.join("  ")));
    }
    out.push_str("\nscore histogram\nbucket   ");
    out.push_str(&format!("{:>6}  {:>6}\n", "ham", "phish"));
    for (index, (bucket, ham)) in evaluation.ham.histogram.iter().enumerate() {
        let phish = evaluation.phish.histogram.get(index).map_or(0, |b| b.1);
        out.push_str(&format!("{bucket:<8} {ham:>6}  {phish:>6}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_auc_table() {
        let cases: &[(&[u32], &[u32], f64)] = &[
            (&[0, 10], &[50, 90], 1.0),
            (&[50, 90], &[0, 10], 0.0),
            (&[20, 20], &[20, 20], 0.5),
            (&[0, 20], &[20, 40], 0.875),
            (&[], &[10], 0.5),
        ];
        for (ham, phish, expected) in cases {
            let auc = roc_auc(ham, phish);
            assert!((auc - expected).abs() < 1e-9, "{ham:?} {phish:?}: {auc}");
        }
    }

    #[test]
    fn quantiles_use_nearest_rank() {
        let sorted = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
        assert_eq!(nearest_rank(&sorted, 10), 0);
        assert_eq!(nearest_rank(&sorted, 50), 40);
        assert_eq!(nearest_rank(&sorted, 99), 90);
        assert_eq!(nearest_rank(&[], 50), 0);
    }

    #[test]
    fn label_stats_bands() {
        let scored = [
            Scored {
                score: 0,
                impersonating: false,
            },
            Scored {
                score: 45,
                impersonating: true,
            },
            Scored {
                score: 75,
                impersonating: true,
            },
            Scored {
                score: 100,
                impersonating: false,
            },
        ];
        let stats = label_stats(&scored, 1);
        assert_eq!(stats.messages, 4);
        assert_eq!(stats.errors, 1);
        assert!((stats.at_medium_or_high - 0.75).abs() < 1e-9);
        assert!((stats.at_high - 0.5).abs() < 1e-9);
        assert_eq!(stats.impersonating, 2);
        assert!((stats.impersonating_at_medium_or_high - 1.0).abs() < 1e-9);
        assert!((stats.impersonating_at_high - 0.5).abs() < 1e-9);
        assert_eq!(stats.histogram[9], ("90-100".to_string(), 1));
    }
}
