/*!
# gutjoint-pipeline — the analysis as a library

Every face of gutjoint (the command line, the HTTP service, the Python package, cluster
workflows) runs the same analysis through one call:

```no_run
use gutjoint_pipeline::{AnalysisConfig, Assets, NoopObserver, run, write_outputs};
let config = AnalysisConfig {
    table: vec!["validation_abundance.csv".into()],
    metadata: Some("metadata.tsv".into()),
    group: Some("group".into()),
    ..AnalysisConfig::default()
};
let analysis = run(&config, &Assets::embedded()?, &NoopObserver)?;
write_outputs(&analysis, std::path::Path::new("out"))?;
# Ok::<(), gutjoint_pipeline::PipelineError>(())
```

[`AnalysisConfig`] is a plain serde struct (no command-line types), [`Assets`] carries the
knowledge base, the built-in references and the demo data without any build-time path, and
an [`Observer`] receives progress and notes and can cancel the run between steps. The result
is an [`Analysis`]: the typed [`Results`] (what `results.json` holds) and the named TSV tables.
Nothing here prints, reads an environment variable, or knows which face called it.
*/

mod assets;
mod config;
mod error;
mod input;
mod observer;
mod outputs;
mod provenance;
mod run;
// Sections of the analysis, one file each.
mod sections;

pub use assets::{
    Assets, BUILT_IN_REFERENCES, BuiltInReference, healthy_reference, parse_reference,
    read_reference_file,
};
pub use config::{AnalysisConfig, ClassifierModel, DaMethod};
pub use error::PipelineError;
pub use input::{TableInput, read_input_table};
pub use observer::{NoopObserver, Observer};
pub use outputs::{NamedTable, read_results, results_json, results_schema, write_outputs};
pub use provenance::{OUTPUT_PLACEHOLDER, command_line, sha256_hex};
/// The results model of one analysis (what `results.json` holds), with its configuration.
pub use run::{Analysis, Results, run};
pub use sections::outcome::OutcomeConfig;

/// The `generated-by` string written into files: software name and version.
pub fn software_version() -> String {
    format!("gutjoint {}", env!("CARGO_PKG_VERSION"))
}
