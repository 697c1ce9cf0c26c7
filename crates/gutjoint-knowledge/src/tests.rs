/*!
Tests over the real tables: every row parses, the base is valid, and the questions the project
was started with get the answers the literature gives.
*/

use crate::base::embedded;
use crate::*;
use std::path::PathBuf;

/// Taxon–disease rows the issue asks for; this release holds 201 (see knowledge/README.md).
const TAXON_DISEASE_FLOOR: usize = 200;

fn kb() -> KnowledgeBase {
    match KnowledgeBase::embedded() {
        Ok(kb) => kb,
        Err(e) => panic!("embedded knowledge base does not parse: {e}"),
    }
}

fn data_rows(text: &str) -> usize {
    text.lines().filter(|l| !l.trim().is_empty()).count() - 1
}

fn knowledge_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../knowledge")
}

#[test]
fn embedded_tables_parse_every_row() {
    let kb = kb();
    assert_eq!(kb.taxon_disease().len(), data_rows(embedded::TAXON_DISEASE));
    assert_eq!(
        kb.therapy_microbiome().len(),
        data_rows(embedded::THERAPY_MICROBIOME)
    );
    assert_eq!(
        kb.taxon_synonyms().len(),
        data_rows(embedded::TAXON_SYNONYMS)
    );
    assert_eq!(kb.drugs().len(), data_rows(embedded::DRUGS));
    assert_eq!(kb.drug_microbe().len(), data_rows(embedded::DRUG_MICROBE));
}

#[test]
fn embedded_base_is_valid() {
    let problems = kb().validate();
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));
}

#[test]
fn every_finding_carries_a_doi_or_pmid() {
    // Identifiers were checked against public pages for this release (knowledge/README.md,
    // "How identifiers were verified"); findings whose paper could not be identified were
    // dropped. The one exception is a 1972 paper that predates DOIs (its PMID was not seen).
    let kb = kb();
    assert_eq!(kb.unidentified_findings(), ["DM001"]);
    assert_eq!(FINDINGS_WITHOUT_IDENTIFIER, ["DM001"]);
    // The parsers already reject malformed identifiers; check the shapes once more here so a
    // loosened parser cannot let one through.
    let citations = kb
        .taxon_disease()
        .iter()
        .map(|r| (&r.id, &r.citation))
        .chain(kb.therapy_microbiome().iter().map(|r| (&r.id, &r.citation)))
        .chain(kb.drug_microbe().iter().map(|r| (&r.id, &r.citation)));
    for (id, c) in citations {
        if let Some(doi) = &c.doi {
            assert!(
                doi.starts_with("10.") && doi.contains('/') && !doi.contains(' '),
                "{id}: DOI {doi}"
            );
        }
        if let Some(pmid) = &c.pmid {
            assert!(
                pmid.bytes().all(|b| b.is_ascii_digit()),
                "{id}: PMID {pmid}"
            );
        }
    }
    // The preprint DOI once given with the journal's name (Chu 2021) is gone.
    assert!(
        !kb.taxon_disease()
            .iter()
            .any(|r| r.citation.doi.as_deref() == Some("10.1101/2019.12.21.19014142"))
    );
    // TM011 and DM042 cite the same paper (Manasson 2020) and now say the same thing.
    let tm011 = kb.therapy_microbiome().iter().find(|r| r.id == "TM011");
    let dm042 = kb.drug_microbe().iter().find(|r| r.id == "DM042");
    assert_eq!(
        tm011.map(|r| (&r.citation.doi, &r.citation.pmid)),
        dm042.map(|r| (&r.citation.doi, &r.citation.pmid))
    );
}

#[test]
fn taxon_disease_covers_every_arthritis_type() {
    let kb = kb();
    // The issue asks for 200 rows, each with an identifier verified on a stored page
    // (knowledge/README.md lists which page confirmed what). The floor guards against rows
    // silently disappearing.
    assert!(
        kb.taxon_disease().len() >= TAXON_DISEASE_FLOOR,
        "{}",
        kb.taxon_disease().len()
    );
    for disease in [
        Disease::Ra,
        Disease::As,
        Disease::AxSpa,
        Disease::Psa,
        Disease::Rea,
        Disease::Ena,
        Disease::Jia,
        Disease::Gout,
    ] {
        let rows: Vec<&TaxonDisease> = kb
            .taxon_disease()
            .iter()
            .filter(|r| r.disease == disease)
            .collect();
        assert!(!rows.is_empty(), "no rows for {disease}");
        for r in rows {
            assert!(
                r.population.is_some() && r.country_iso.is_some(),
                "{} lacks population or country",
                r.id
            );
        }
    }
}

#[test]
fn load_dir_reads_the_same_tables() {
    let from_disk = match KnowledgeBase::load_dir(&knowledge_dir()) {
        Ok(kb) => kb,
        Err(e) => panic!("{e}"),
    };
    let embedded = kb();
    assert_eq!(from_disk.taxon_disease(), embedded.taxon_disease());
    assert_eq!(from_disk.drug_microbe(), embedded.drug_microbe());
    let missing = KnowledgeBase::load_dir(&knowledge_dir().join("no-such-dir"));
    assert!(matches!(missing, Err(Error::Io { .. })));
}

#[test]
fn pharmaco_tables_load_at_run_time_and_agree() {
    let dir = knowledge_dir();
    let data = match KnowledgeBase::load_pharmaco_dir(&dir) {
        Ok(data) => data,
        Err(e) => panic!("{e}"),
    };
    let text = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap_or_default();
    assert_eq!(
        data.carriage.len(),
        data_rows(&text(pharmaco::ENZYME_CARRIAGE_FILE))
    );
    assert_eq!(data.maier.len(), data_rows(&text(pharmaco::MAIER2018_FILE)));
    assert_eq!(
        data.known_metabolizers.len(),
        data_rows(&text(pharmaco::KNOWN_METABOLIZERS_FILE))
    );
    // 148 in-vitro positives and 105 negatives (`cut -f4 | sort | uniq -c` on the file).
    assert_eq!(
        data.known_metabolizers
            .iter()
            .filter(|k| k.in_vitro)
            .count(),
        148
    );
    assert_eq!(data.enzyme_columns.len(), ENZYME_COLUMNS.len());
    assert!(
        data.enzyme_columns
            .iter()
            .all(|c| ENZYME_COLUMNS.contains(&c.as_str()))
    );
    let problems = kb().validate_pharmaco(&data);
    assert!(problems.is_empty(), "problems:\n{}", problems.join("\n"));

    let lenta = data.carriage_of("Eggerthella lenta");
    assert!(lenta.is_some_and(|s| s.n_strains > 0 && s.fraction("cCgr").is_some()));
    let mtx = data.maier_for("methotrexate");
    assert_eq!(mtx.len(), 40);
    assert_eq!(mtx.iter().filter(|m| m.inhibits).count(), 12);
}

#[test]
fn segatella_copri_finds_the_prevotella_copri_studies() {
    let answer = kb().taxon("Segatella copri");
    let resolved = answer.resolved.as_ref();
    assert_eq!(
        resolved.map(|r| r.accepted.as_str()),
        Some("Prevotella copri")
    );
    assert_eq!(
        resolved.and_then(|r| r.rank),
        Some(gutjoint_table::Rank::Species)
    );
    assert!(answer.associations.iter().any(|row| {
        row.citation
            .first_author
            .as_deref()
            .is_some_and(|a| a.starts_with("Scher"))
            && row.citation.year == Some(2013)
            && row.citation.doi.as_deref() == Some("10.7554/eLife.01202")
    }));
    assert!(answer.synonyms.iter().any(|s| s == "Segatella copri"));
    assert_eq!(answer.suggestion, None);
}

#[test]
fn gnavus_names_resolve_together() {
    let kb = kb();
    let reference = kb.resolve_taxon("Ruminococcus gnavus").map(|r| r.accepted);
    assert_eq!(reference.as_deref(), Some("Ruminococcus gnavus"));
    for name in [
        "[Ruminococcus] gnavus group",
        "Mediterraneibacter gnavus",
        "s__Ruminococcus_gnavus",
        "Ruminococcus_B gnavus",
    ] {
        let answer = kb.taxon(name);
        assert_eq!(
            answer.resolved.as_ref().map(|r| r.accepted.clone()),
            reference,
            "{name}"
        );
        assert!(
            answer
                .associations
                .iter()
                .any(|row| matches!(row.disease, Disease::AxSpa | Disease::As | Disease::Ena)),
            "{name}"
        );
    }
}

#[test]
fn names_resolve_through_normalisation_and_lineages() {
    let kb = kb();
    let accepted = |name: &str| kb.resolve_taxon(name).map(|r| r.accepted);
    assert_eq!(
        accepted("Faecalibacterium prausnitzii_D").as_deref(),
        Some("Faecalibacterium prausnitzii")
    );
    assert_eq!(accepted("g__Prevotella_9").as_deref(), Some("Prevotella"));
    assert_eq!(accepted("Prevotella spp.").as_deref(), Some("Prevotella"));
    assert_eq!(accepted("dialister").as_deref(), Some("Dialister"));
    assert_eq!(
        accepted("k__Bacteria|p__Bacteroidetes|c__Bacteroidia|o__Bacteroidales|f__Prevotellaceae|g__Prevotella|s__Prevotella_copri|t__SGB1626")
            .as_deref(),
        Some("Prevotella copri")
    );
    assert_eq!(
        accepted("d__Bacteria; p__Bacillota_A").as_deref(),
        Some("Firmicutes")
    );
    // The deepest known rank wins: Clostridia is named by a therapy row.
    assert_eq!(
        kb.resolve_taxon("d__Bacteria; p__Bacillota_A; c__Clostridia")
            .map(|r| (r.accepted, r.matched_via)),
        Some((
            "Clostridia".to_string(),
            "class of the lineage: name used in therapy_microbiome.tsv (no synonyms listed)"
                .to_string()
        ))
    );
    // GTDB splits the curators deliberately left unmapped stay unmapped, and are not
    // suggested their siblings.
    assert_eq!(accepted("Ruminococcus_B"), None);
    assert_eq!(kb.taxon("Bacteroides_D").suggestion, None);
    assert_eq!(accepted(""), None);
}

#[test]
fn unresolved_taxa_get_a_suggestion_only() {
    let answer = kb().taxon("Segatela copri");
    assert_eq!(answer.resolved, None);
    assert_eq!(answer.suggestion.as_deref(), Some("Segatella copri"));
    assert!(answer.associations.is_empty());
    assert_eq!(kb().taxon("Zzyzx bacterium").suggestion, None);
}

#[test]
fn fligotinib_is_answered_as_filgotinib() {
    let answer = kb().therapy("fligotinib");
    assert_eq!(answer.suggestion.as_deref(), Some("filgotinib"));
    assert_eq!(answer.matched.as_deref(), Some("filgotinib"));
    assert_eq!(
        answer.drug.as_ref().map(|d| d.drug.as_str()),
        Some("filgotinib")
    );
    assert!(
        answer
            .therapy_effects
            .iter()
            .any(|r| r.direction == TherapyDirection::NoEvidence)
    );
    assert!(
        answer
            .drug_microbe
            .iter()
            .any(|r| r.interaction == Interaction::NoMicrobialMetabolismReported)
    );
    // Tofacitinib rows name another JAK inhibitor: not class-level evidence for filgotinib.
    assert!(answer.therapy_effects.iter().all(|r| r.id == "TM015"));

    // A misspelling that is not listed is found by distance and answered the same way.
    let typo = kb().therapy("filgotinb");
    assert_eq!(typo.suggestion.as_deref(), Some("filgotinib"));
    assert_eq!(typo.drug_microbe, answer.drug_microbe);
}

#[test]
fn therapy_queries_by_brand_class_and_text() {
    let kb = kb();
    let humira = kb.therapy("Humira");
    assert_eq!(humira.matched.as_deref(), Some("adalimumab"));
    assert_eq!(humira.suggestion, None);
    // Class-level anti-TNF rows apply to adalimumab.
    assert!(humira.class_level.iter().any(|id| id == "TM007"));

    let tnf = kb.therapy("anti-TNF");
    assert_eq!(tnf.matched_as, Some(TherapyMatch::Class));
    assert_eq!(
        tnf.therapy_effects.len(),
        kb.therapy_microbiome()
            .iter()
            .filter(|r| r.therapy_class == TherapyClass::AntiTnf)
            .count()
    );
    assert!(tnf.drug_microbe.iter().any(|r| r.drug == "infliximab"));

    let jak = kb.therapy("JAK inhibitors");
    assert_eq!(jak.matched.as_deref(), Some("JAK inhibitor"));
    assert_eq!(jak.therapy_effects.len(), 3);
    assert!(jak.drug_microbe.iter().any(|r| r.drug == "upadacitinib"));

    let mtx = kb.therapy("MTX");
    assert_eq!(mtx.matched.as_deref(), Some("methotrexate"));
    assert!(mtx.therapy_effects.iter().any(|r| r.id == "TM002"));
    assert!(mtx.therapy_effects.iter().all(|r| r.id != "TM005"));

    let fmt = kb.therapy("faecal microbiota transplantation");
    assert_eq!(fmt.matched.as_deref(), Some("FMT"));
    assert_eq!(fmt.therapy_effects.len(), 1);

    let lacto = kb.therapy("Lactobacillus");
    assert_eq!(lacto.matched_as, Some(TherapyMatch::TherapyText));
    // Only Alipour 2014 (TM018) is left: the Pineda 2011 and Hatakka 2003 trials could not be
    // identified by DOI or PMID and were dropped (knowledge/README.md).
    assert_eq!(lacto.therapy_effects.len(), 1);

    let nothing = kb.therapy("xyzzy");
    assert_eq!(nothing.matched, None);
    assert_eq!(nothing.suggestion, None);
}

#[test]
fn resolve_drug_for_scoring() {
    let kb = kb();
    assert_eq!(
        kb.resolve_drug("Jyseleca").map(|d| d.drug.as_str()),
        Ok("filgotinib")
    );
    assert_eq!(
        kb.resolve_drug("INDOMETACIN").map(|d| d.drug.as_str()),
        Ok("indomethacin")
    );
    let miss = kb.resolve_drug("metotrexate");
    assert_eq!(
        miss.as_ref().err().and_then(|s| s.suggestion.as_deref()),
        Some("methotrexate")
    );
    assert_eq!(
        miss.err().map(|s| s.to_string()).as_deref(),
        Some("unknown drug 'metotrexate'; did you mean 'methotrexate'?")
    );
}

#[test]
fn disease_by_code_or_name() {
    let kb = kb();
    let by_name = kb.disease("rheumatoid arthritis");
    let by_code = kb.disease("RA");
    assert_eq!(by_name.disease, Some(Disease::Ra));
    assert_eq!(by_name.disease, by_code.disease);
    assert_eq!(by_name.associations, by_code.associations);
    assert_eq!(by_name.therapies, by_code.therapies);
    assert_eq!(by_name.suggestion, None);
    assert_eq!(
        by_code.associations.len(),
        kb.taxon_disease()
            .iter()
            .filter(|r| r.disease == Disease::Ra)
            .count()
    );
    assert!(!by_code.therapies.is_empty());

    for (query, disease) in [
        ("Ankylosing Spondylitis", Disease::As),
        ("axial spondyloarthritis", Disease::AxSpa),
        ("psoriatic arthritis", Disease::Psa),
        ("reactive arthritis", Disease::Rea),
        ("enteropathic arthritis", Disease::Ena),
        ("juvenile idiopathic arthritis", Disease::Jia),
        ("osteoarthritis", Disease::Oa),
        ("GOUT", Disease::Gout),
        ("axspa", Disease::AxSpa),
    ] {
        let answer = kb.disease(query);
        assert_eq!(answer.disease, Some(disease), "{query}");
        assert!(!answer.associations.is_empty(), "{query}");
    }

    let typo = kb.disease("reumatoid arthritis");
    assert_eq!(typo.suggestion.as_deref(), Some("rheumatoid arthritis"));
    assert_eq!(typo.associations, by_code.associations);
    assert_eq!(kb.disease("lupus nephritis").disease, None);
}

#[test]
fn broken_tables_name_the_line() {
    let header = embedded::TAXON_DISEASE.lines().next().unwrap_or_default();
    let good = embedded::TAXON_DISEASE.lines().nth(1).unwrap_or_default();
    let table = "knowledge/taxon_disease.tsv";

    let bad_enum = format!("{header}\n{good}\n{}\n", good.replace("\tRA\t", "\tXX\t"));
    let err = parse_taxon_disease(&bad_enum, table)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "knowledge/taxon_disease.tsv line 3: unknown disease 'XX', expected one of RA, AS, axSpA, PsA, ReA, EnA, gout, OA, JIA, arthritis, CD, CIA"
        )
    );

    let ragged = format!("{header}\n{good}\n{good}\textra\n");
    let err = parse_taxon_disease(&ragged, table)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some(
            "knowledge/taxon_disease.tsv line 3: expected 19 tab-separated fields (as in the header), found 20"
        )
    );

    let therapy_only = format!("{header}\n{}\n", good.replace("\tRA\t", "\tCIA\t"));
    let err = parse_taxon_disease(&therapy_only, table)
        .err()
        .map(|e| e.to_string());
    assert!(
        err.is_some_and(|e| e.starts_with("knowledge/taxon_disease.tsv line 2: disease 'CIA'"))
    );

    let bad_direction = format!("{header}\n{}\n", good.replace("\tincreased\t", "\tup\t"));
    let err = parse_taxon_disease(&bad_direction, table)
        .err()
        .map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.contains("line 2: unknown direction 'up'")));

    let no_column = "id\ttaxon\nTD001\tPrevotella\n";
    let err = parse_taxon_disease(no_column, table)
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("knowledge/taxon_disease.tsv line 1: missing column 'rank' in the header")
    );

    // Drug–microbe: only gap rows may leave the confidence empty.
    let dm_header = embedded::DRUG_MICROBE.lines().next().unwrap_or_default();
    let dm_row = embedded::DRUG_MICROBE.lines().nth(1).unwrap_or_default();
    let ungraded = dm_row.replace("\thuman\tH\t", "\thuman\t\t");
    let err = parse_drug_microbe(&format!("{dm_header}\n{ungraded}\n"), "dm.tsv")
        .err()
        .map(|e| e.to_string());
    assert!(err.is_some_and(|e| e.starts_with("dm.tsv line 2: empty confidence")));
}

#[test]
fn validate_catches_cross_table_problems() {
    let kb = kb();
    let mut drug_microbe = kb.drug_microbe().to_vec();
    if let Some(row) = drug_microbe.first_mut() {
        row.drug = "unobtainium".to_string();
    }
    let mut taxon_disease = kb.taxon_disease().to_vec();
    if let Some(first) = taxon_disease.first().cloned() {
        let mut copy = first;
        copy.id = "TD999".to_string();
        copy.citation = Citation::default();
        copy.notes = None;
        taxon_disease.push(copy);
    }
    if let Some(first) = taxon_disease.first().cloned() {
        let mut same_contrast = first.clone();
        same_contrast.id = "TD998".to_string();
        taxon_disease.push(same_contrast);
        taxon_disease.push(first); // same id twice
    }
    let broken = KnowledgeBase::from_tables(
        taxon_disease,
        kb.therapy_microbiome().to_vec(),
        kb.taxon_synonyms().to_vec(),
        kb.drugs().to_vec(),
        drug_microbe,
    );
    let problems = broken.validate();
    assert!(problems.iter().any(|p| p.contains("unobtainium")));
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("TD999: reports a finding but has no DOI or PMID"))
    );
    assert!(!problems.iter().any(|p| p.contains("TD999 repeats")));
    assert!(problems.iter().any(|p| p.contains("TD998 repeats TD001")));
    assert!(
        problems
            .iter()
            .any(|p| p == "taxon_disease: id TD001 appears more than once")
    );
}

#[test]
fn every_guild_row_parses_is_cited_and_unique() {
    let guilds = crate::embedded_guilds().expect("guilds.tsv parses");
    assert_eq!(guilds.len(), crate::embedded::GUILDS.lines().count() - 1);
    let mut seen = std::collections::BTreeSet::new();
    for g in &guilds {
        assert!(g.citation.is_traceable(), "{} {}", g.guild, g.member);
        assert!(
            seen.insert((g.guild.clone(), g.member.clone())),
            "duplicate {} {}",
            g.guild,
            g.member
        );
    }
    let names: std::collections::BTreeSet<&str> = guilds.iter().map(|g| g.guild.as_str()).collect();
    for required in [
        "butyrate_producers",
        "mucin_degraders",
        "lps_rich_proteobacteria",
        "oral_type_taxa",
    ] {
        assert!(names.contains(required), "{required}");
    }
    let broken = crate::parse_guilds(
        "guild_id\tguild\tmember\trank\tmembership_basis\tgenus_level_only\tfirst_author\tyear\tjournal\tdoi\tpmid\tconfidence\tnotes\nG1\tx\ty\tgenus\tb\tfalse\tA\t2020\tJ\t\t\tH\t\n",
        "g.tsv",
    );
    assert!(broken.unwrap_err().to_string().contains("line 2"));
}

#[test]
fn citation_text_forms() {
    let c = crate::Citation {
        first_author: Some("Scher JU".into()),
        year: Some(2013),
        journal: Some("eLife".into()),
        doi: Some("10.7554/eLife.01202".into()),
        pmid: Some("24192039".into()),
    };
    assert_eq!(c.short().as_deref(), Some("Scher JU 2013 eLife"));
    assert_eq!(
        c.with_identifier().as_deref(),
        Some("Scher JU 2013 eLife doi:10.7554/eLife.01202")
    );
    let only_pmid = crate::Citation {
        pmid: Some("1".into()),
        ..Default::default()
    };
    assert_eq!(only_pmid.short(), None);
    assert_eq!(only_pmid.with_identifier().as_deref(), Some("PMID:1"));
    assert_eq!(crate::Citation::default().with_identifier(), None);
}

#[test]
fn contrast_sample_type_and_method_are_filled_on_every_row() {
    let kb = kb();
    for row in kb.taxon_disease() {
        assert!(!row.method.is_empty(), "{} has no method", row.id);
        assert!(
            !row.sample_type.is_empty() || row.method.iter().all(|m| m.is_pooled()),
            "{} has no sample type",
            row.id
        );
        assert!(!row.contrast.is_about_therapy(), "{}", row.id);
    }
    // The rows the source note describes as something other than patients vs controls
    // (knowledge/README.md, "Rows that are not plain patient-vs-control contrasts").
    let not_case_control: Vec<(&str, Contrast)> = kb
        .taxon_disease()
        .iter()
        .filter(|r| r.contrast != Contrast::CaseControl)
        .map(|r| (r.id.as_str(), r.contrast))
        .collect();
    assert_eq!(
        not_case_control,
        [
            ("TD014", Contrast::AtRiskVsControl),
            ("TD015", Contrast::AtRiskVsControl),
            ("TD041", Contrast::ActivityWithinPatients),
            ("TD088", Contrast::FeatureWithinPatients),
            ("TD089", Contrast::FeatureWithinPatients),
            ("TD090", Contrast::FeatureWithinPatients),
            ("TD097", Contrast::ActivityWithinPatients),
            ("TD110", Contrast::PopulationAssociation),
            ("TD157", Contrast::Longitudinal),
            ("TD158", Contrast::Longitudinal),
            ("TD159", Contrast::Longitudinal),
            ("TD160", Contrast::Longitudinal),
            ("TD162", Contrast::DiseaseVsDisease),
            ("TD163", Contrast::DiseaseVsDisease),
            ("TD164", Contrast::DiseaseVsDisease),
            ("TD165", Contrast::ActivityWithinPatients),
            ("TD166", Contrast::ActivityWithinPatients),
            // Kindgren 2023: infants later diagnosed with JIA vs infants who were not.
            ("TD174", Contrast::AtRiskVsControl),
            ("TD175", Contrast::AtRiskVsControl),
            ("TD176", Contrast::AtRiskVsControl),
            ("TD177", Contrast::AtRiskVsControl),
            ("TD178", Contrast::AtRiskVsControl),
            ("TD179", Contrast::AtRiskVsControl),
            ("TD180", Contrast::AtRiskVsControl),
            ("TD181", Contrast::AtRiskVsControl),
            ("TD182", Contrast::AtRiskVsControl),
            ("TD183", Contrast::AtRiskVsControl),
            ("TD184", Contrast::AtRiskVsControl),
            ("TD185", Contrast::AtRiskVsControl),
            // Viladomiu 2017: Crohn's disease with SpA vs Crohn's disease alone.
            ("TD186", Contrast::DiseaseVsDisease),
            // Picchianti-Diamanti 2018: Euryarchaeota higher with DAS28.
            ("TD243", Contrast::ActivityWithinPatients),
        ]
    );
    // Costello 2015 sampled the terminal ileum, not stool: a stool cohort cannot re-test it.
    let costello: Vec<&TaxonDisease> = kb
        .taxon_disease()
        .iter()
        .filter(|r| r.citation.first_author.as_deref() == Some("Costello ME"))
        .collect();
    assert_eq!(costello.len(), 7);
    assert!(
        costello
            .iter()
            .all(|r| r.sample_type == [SampleType::IlealBiopsy])
    );
    // Klingberg 2019 used a probe panel, not a community profile.
    assert!(
        kb.taxon_disease()
            .iter()
            .any(|r| r.method == [Method::GaMap])
    );
    assert!(!Method::GaMap.is_community_profile());

    // Therapy rows: a contrast exactly where the microbiome was measured.
    for row in kb.therapy_microbiome() {
        assert_eq!(
            row.contrast.is_some(),
            row.direction.measures_microbiome(),
            "{}",
            row.id
        );
    }
    let response: Vec<&str> = kb
        .therapy_microbiome()
        .iter()
        .filter(|r| r.contrast == Some(Contrast::TreatmentResponse))
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(response, ["TM002", "TM003", "TM007", "TM008", "TM025"]);
}

#[test]
fn contrast_sample_type_and_method_errors_name_the_line() {
    let header = embedded::TAXON_DISEASE.lines().next().unwrap_or_default();
    let good = embedded::TAXON_DISEASE.lines().nth(1).unwrap_or_default();
    let table = "knowledge/taxon_disease.tsv";
    let parse = |row: String| {
        parse_taxon_disease(&format!("{header}\n{row}\n"), table)
            .err()
            .map(|e| e.to_string())
    };

    let typo = parse(good.replace("\tcase_control\t", "\tcase-control\t"));
    assert!(
        typo.as_deref()
            .is_some_and(|e| e.starts_with("knowledge/taxon_disease.tsv line 2: unknown contrast 'case-control', expected one of case_control, at_risk_vs_control"))
    );
    let therapy = parse(good.replace("\tcase_control\t", "\ttreatment_change\t"));
    assert!(therapy.as_deref().is_some_and(|e| {
        e.contains("line 2: contrast 'treatment_change' belongs in therapy_microbiome.tsv")
    }));
    let no_sample = parse(good.replace("\tstool\t", "\t\t"));
    assert!(no_sample.as_deref().is_some_and(
        |e| e.starts_with("knowledge/taxon_disease.tsv line 2: empty sample type, expected one or more of stool, ileal_biopsy")
    ));
    // A pooled row may leave the sample type empty.
    let pooled = good
        .replace("\tstool\t", "\t\t")
        .replace("\t16S;shotgun\t", "\tmeta-analysis\t");
    assert_eq!(parse(pooled), None);
    let no_method = parse(good.replace("\t16S;shotgun\t", "\t\t"));
    assert!(
        no_method
            .as_deref()
            .is_some_and(|e| e.contains("line 2: empty method, expected one or more of 16S"))
    );
    let old_biopsy = parse(good.replace("\tstool\t", "\tbiopsy\t"));
    assert!(
        old_biopsy
            .as_deref()
            .is_some_and(|e| e.contains("line 2: unknown sample type 'biopsy'"))
    );

    let tm_header = embedded::THERAPY_MICROBIOME
        .lines()
        .next()
        .unwrap_or_default();
    let tm = |id: &str| {
        embedded::THERAPY_MICROBIOME
            .lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_string()
    };
    let parse_tm = |row: String| {
        parse_therapy_microbiome(&format!("{tm_header}\n{row}\n"), "tm.tsv")
            .err()
            .map(|e| e.to_string())
    };
    // TM001 reports a microbiome change: it needs its contrast.
    let uncompared = parse_tm(tm("TM001").replace("\ttreatment_change\t", "\t\t"));
    assert!(
        uncompared
            .as_deref()
            .is_some_and(|e| e.starts_with("tm.tsv line 2: empty contrast on a 'restores' row"))
    );
    // TM016 reports clinical outcomes only: no contrast, sample type or method.
    let clinical = tm("TM016").replacen("\tRCT\t\t\t\t", "\tRCT\ttreated_vs_untreated\t\t\t", 1);
    assert!(parse_tm(clinical).as_deref().is_some_and(|e| {
        e.contains("line 2: contrast 'treated_vs_untreated' on a 'clinical_harm' row")
    }));
    let clinical = tm("TM016").replacen("\tRCT\t\t\t\t", "\tRCT\t\tstool\t16S\t", 1);
    assert!(
        parse_tm(clinical)
            .as_deref()
            .is_some_and(|e| e.contains("line 2: sample_type or method on a 'clinical_harm' row"))
    );
}
