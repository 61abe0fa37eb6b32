//! Growth of the analysis time with hostile input size: many Received fields, one very
//! long folded field, one line of semicolons (Authentication-Results and To), a DKIM `h=`
//! list of many names, many ARC sets, and an mbox of many small messages. Each input is
//! generated at growing sizes; time per byte that stays flat across sizes shows linear
//! cost. Run with `cargo bench --bench linear`; the numbers are reported, never asserted.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use mailtrace::analysis::analyze;
use mailtrace::config::AnalysisConfig;
use mailtrace::input::{InputOptions, read_bytes};
use std::hint::black_box;

/// Generator of one input shape at a given size.
type Generator = fn(usize) -> Vec<u8>;

const TAIL: &str = "From: a@example.com\nSubject: s\n\nbody\n";

fn many_received(n: usize) -> Vec<u8> {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "Received: from h{i}.example.com (h{i}.example.com [192.0.2.{}]) by mx{i}.example.org with ESMTP id {i}; Mon, 3 Mar 2025 10:00:00 +0000\n",
            i % 250
        ));
    }
    text.push_str(TAIL);
    text.into_bytes()
}

fn long_folded_field(n: usize) -> Vec<u8> {
    let mut text = String::from("Authentication-Results: mx.example.org;");
    for i in 0..n {
        text.push_str(&format!("\n spf=pass smtp.mailfrom=s{i}@example.com;"));
    }
    text.push('\n');
    text.push_str(TAIL);
    text.into_bytes()
}

/// Builds one unfolded Authentication-Results line of `n` semicolons, each an empty resinfo.
fn authres_semicolons(n: usize) -> Vec<u8> {
    let mut text = format!("Authentication-Results: mx.example.org{}\n", ";".repeat(n));
    text.push_str(TAIL);
    text.into_bytes()
}

/// Builds one To line of `n` semicolons, each a stray group terminator for the address parser.
fn to_semicolons(n: usize) -> Vec<u8> {
    let mut text = format!("To: a@example.com{}\n", ";".repeat(n));
    text.push_str(TAIL);
    text.into_bytes()
}

/// Builds one DKIM-Signature whose `h=` list names `n` headers, none of them present.
fn dkim_signed_names(n: usize) -> Vec<u8> {
    let names: Vec<String> = (0..n).map(|i| format!("x{i}")).collect();
    let mut text = format!(
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=s; h={}; bh=AAAA; b=AAAA\n",
        names.join(":")
    );
    text.push_str(TAIL);
    text.into_bytes()
}

fn many_arc_sets(n: usize) -> Vec<u8> {
    let mut text = String::new();
    for i in 1..=n {
        text.push_str(&format!(
            "ARC-Seal: i={i}; a=rsa-sha256; cv=pass; d=example.org; s=s; b=AAAA\nARC-Message-Signature: i={i}; a=rsa-sha256; d=example.org; s=s; h=from; bh=AAAA; b=AAAA\nARC-Authentication-Results: i={i}; mx.example.org; spf=pass\n"
        ));
    }
    text.push_str(TAIL);
    text.into_bytes()
}

fn mbox_of(n: usize) -> Vec<u8> {
    let mut text = String::new();
    for _ in 0..n {
        text.push_str("From a@example.com Thu Jan  4 10:00:00 2024\n");
        text.push_str(TAIL);
        text.push('\n');
    }
    text.into_bytes()
}

fn analyse_all(bytes: &[u8], config: &AnalysisConfig) -> usize {
    read_bytes("bench", bytes.to_vec(), None, &InputOptions::default())
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|input| analyze(&input, config).ok())
        .count()
}

fn linear(c: &mut Criterion) {
    let config = AnalysisConfig::default();
    let shapes: [(&str, Generator, [usize; 3]); 7] = [
        ("received_fields", many_received, [100, 1_000, 10_000]),
        ("folded_lines", long_folded_field, [100, 1_000, 10_000]),
        (
            "authres_semicolons",
            authres_semicolons,
            [1_000, 10_000, 100_000],
        ),
        ("to_semicolons", to_semicolons, [1_000, 10_000, 100_000]),
        (
            "dkim_signed_names",
            dkim_signed_names,
            [1_000, 10_000, 100_000],
        ),
        ("arc_sets", many_arc_sets, [100, 1_000, 10_000]),
        ("mbox_messages", mbox_of, [100, 1_000, 10_000]),
    ];
    for (name, generate, sizes) in shapes {
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        for n in sizes {
            let bytes = generate(n);
            group.throughput(Throughput::Bytes(bytes.len() as u64));
            group.bench_with_input(BenchmarkId::from_parameter(n), &bytes, |b, bytes| {
                b.iter(|| analyse_all(black_box(bytes), &config))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, linear);
criterion_main!(benches);
