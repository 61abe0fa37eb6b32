//! Per-message cost of each pipeline stage over the phishing corpus (`phish-outlook`,
//! beside the project in `../shared/corpus`): reading (format detection and the search
//! for attached originals), header parsing, full analysis and JSON Lines rendering.
//!
//! Files are loaded into memory before measuring, so disk speed does not count. Run with
//! `cargo bench --bench analysis`; `scripts/bench.sh` measures the whole binary instead.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use mailtrace::analysis::analyze;
use mailtrace::config::AnalysisConfig;
use mailtrace::headers::HeaderBlock;
use mailtrace::input::{InputMessage, InputOptions, read_bytes};
use mailtrace::report::json::message_line;
use std::hint::black_box;
use std::path::Path;

/// Loads every `.eml` file of the phishing corpus as (label, bytes), in name order.
fn load_corpus() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/phish-outlook");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            Some((path.display().to_string(), bytes))
        })
        .collect()
}

/// Reads every file into messages, dropping the files that are not messages.
fn read_all(files: &[(String, Vec<u8>)], options: &InputOptions) -> Vec<InputMessage> {
    files
        .iter()
        .flat_map(|(label, bytes)| read_bytes(label, bytes.clone(), None, options))
        .filter_map(Result::ok)
        .collect()
}

fn bench_stages(c: &mut Criterion) {
    let files = load_corpus();
    assert!(!files.is_empty(), "the phishing corpus holds no .eml files");
    let options = InputOptions::default();
    let config = AnalysisConfig::default();
    let messages = read_all(&files, &options);
    let total_bytes: u64 = files.iter().map(|(_, bytes)| bytes.len() as u64).sum();

    let mut group = c.benchmark_group("phish-outlook");
    group.sample_size(10);
    group.throughput(Throughput::Bytes(total_bytes));

    group.bench_function("read", |b| {
        b.iter_batched(
            || files.clone(),
            |files| {
                for (label, bytes) in files {
                    black_box(read_bytes(&label, bytes, None, &options));
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("header parse", |b| {
        b.iter(|| {
            for message in &messages {
                let _ = black_box(HeaderBlock::parse(&message.bytes, &config.parse));
            }
        })
    });
    group.bench_function("analyze", |b| {
        b.iter(|| {
            for message in &messages {
                let _ = black_box(analyze(message, &config));
            }
        })
    });
    group.bench_function("analyze and render jsonl", |b| {
        b.iter(|| {
            for message in &messages {
                if let Ok(report) = analyze(message, &config) {
                    black_box(message_line(&report));
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench_stages);
criterion_main!(benches);
