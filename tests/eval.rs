//! Measured evaluation of the spoof score on the shared real-mail corpus.
//!
//! The floors and ceilings below sit just past the numbers measured when they were set
//! (docs/EVALUATION.md), so a change that makes the score separate ham from phishing worse
//! fails here. The test is skipped when the corpus folder is not next to the project.

use mailtrace::cli::eval::{Evaluation, evaluate, render_text};
use mailtrace::config::AnalysisConfig;
use mailtrace::input::InputOptions;
use std::path::{Path, PathBuf};

const CORPUS: &str = "../shared/corpus";
const HAM: &[&str] = &[
    "ham-2002",
    "spamassassin-t/nice",
    "maildir",
    "cpython-email",
];
const PHISH: &[&str] = &["phish-outlook", "spamassassin-t/spam"];

fn corpus_paths(folders: &[&str]) -> Vec<PathBuf> {
    folders.iter().map(|f| Path::new(CORPUS).join(f)).collect()
}

fn run_corpus() -> Option<Evaluation> {
    if !Path::new(CORPUS).join("phish-outlook").is_dir() {
        eprintln!("skipped: {CORPUS} is not available");
        return None;
    }
    let evaluation = evaluate(
        &corpus_paths(HAM),
        &corpus_paths(PHISH),
        &AnalysisConfig::default(),
        &InputOptions::default(),
    );
    println!("{}", render_text(&evaluation));
    Some(evaluation)
}

#[test]
fn corpus_evaluation_meets_measured_floors() {
    let Some(evaluation) = run_corpus() else {
        return;
    };

    // Every message is read and scored.
    assert!(
        evaluation.ham.messages >= 1600,
        "{}",
        evaluation.ham.messages
    );
    assert!(
        evaluation.phish.messages >= 600,
        "{}",
        evaluation.phish.messages
    );
    assert!(evaluation.ham.errors <= 4, "{}", evaluation.ham.errors);
    assert!(evaluation.phish.errors <= 2, "{}", evaluation.phish.errors);

    // Separation.
    // 0.719 measured. Phishing that Exchange Online let through on a forwarder's ARC seal,
    // from a domain that passed DMARC before the forwarding, scores below the ham's 5 points
    // for missing results, so the AUC stays far from the 0.95 target.
    assert!(evaluation.roc_auc >= 0.70, "ROC AUC {}", evaluation.roc_auc);

    // False positives on ham.
    assert!(
        evaluation.ham.at_high <= 0.01,
        "ham at high {}",
        evaluation.ham.at_high
    );
    assert!(
        evaluation.ham.at_medium_or_high <= 0.02,
        "ham at medium or high {}",
        evaluation.ham.at_medium_or_high
    );

    // Detection on phishing.
    assert!(
        evaluation.phish.at_medium_or_high >= 0.45,
        "phish at medium or high {}",
        evaluation.phish.at_medium_or_high
    );
    assert!(
        evaluation.phish.at_high >= 0.13,
        "phish at high {}",
        evaluation.phish.at_high
    );
    assert!(
        evaluation.phish.impersonating >= 135,
        "impersonating phish {}",
        evaluation.phish.impersonating
    );
    assert!(
        evaluation.phish.impersonating_at_medium_or_high >= 0.80,
        "impersonating phish at medium or high {}",
        evaluation.phish.impersonating_at_medium_or_high
    );
}
