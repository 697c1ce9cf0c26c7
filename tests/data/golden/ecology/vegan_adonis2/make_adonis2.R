# Golden values for gutjoint's marginal PERMANOVA (crates/gutjoint-ecology/src/adonis.rs) and
# the `gutjoint confounders` PERMANOVA columns: vegan's adonis2(..., by = "margin").
# Run from the repository root:  Rscript tests/data/golden/ecology/vegan_adonis2/make_adonis2.R
# (Debian: apt-get install r-cran-vegan; written with vegan 2.6-4, R 4.2).
suppressMessages(library(vegan))
out <- "tests/data/golden/ecology/vegan_adonis2"
tab <- read.delim("examples/data/gespic/gespic_genus.tsv", skip = 1, check.names = FALSE,
                  row.names = 1, comment.char = "")
md <- read.delim("examples/data/gespic/gespic_metadata.tsv", check.names = FALSE,
                 na.strings = "NA", stringsAsFactors = FALSE)
rownames(md) <- md[["sample-id"]]
# GESPIC axSpA vs healthy, samples of the table only.
keep <- md[["sample-id"]][md$group %in% c("axSpA", "healthy")]
keep <- intersect(colnames(tab), keep)
x <- t(as.matrix(tab[, keep]))
x <- x / rowSums(x)
d <- vegdist(x, method = "bray")
m <- as.matrix(d)
# lsmat: tab-separated, empty corner cell, 17 significant digits.
con <- file(file.path(out, "gespic_axspa_healthy_braycurtis.lsmat.tsv"), "w")
writeLines(paste(c("", keep), collapse = "\t"), con)
for (i in seq_along(keep)) {
  writeLines(paste(c(keep[i], formatC(m[i, ], digits = 17, format = "g")), collapse = "\t"), con)
}
close(con)
meta <- md[keep, ]
rows <- list()
add <- function(model, fit) {
  terms <- rownames(fit)
  for (k in seq_along(terms)) {
    rows[[length(rows) + 1]] <<- data.frame(
      model = model, term = terms[k], df = fit$Df[k],
      sum_of_squares = formatC(fit$SumOfSqs[k], digits = 17, format = "g"),
      r2 = formatC(fit$R2[k], digits = 17, format = "g"),
      f = ifelse(is.na(fit$F[k]), "NA", formatC(fit$F[k], digits = 17, format = "g")),
      n = sum(fit$Df[terms == "Total"]) + 1)
  }
}
set.seed(1)
# 1. Several terms at once.
cc <- complete.cases(meta[, c("group", "SeqExp", "age", "sex")])
sub <- meta[cc, ]
dd <- as.dist(m[cc, cc])
fit <- adonis2(dd ~ group + factor(SeqExp) + age + factor(sex), data = sub,
               by = "margin", permutations = 99)
rownames(fit) <- c("group", "SeqExp", "age", "sex", "Residual", "Total")
add("group + C(SeqExp) + age + C(sex)", fit)
# 2. The confounders command's two-term models, one per column: group + column on the samples
#    with both values (a column with at most 5 distinct values is categorical, as gutjoint).
for (col in c("SeqExp", "LibSize", "age", "sex", "HLAB27", "NSAID_current", "bmi", "smoker")) {
  cc <- !is.na(meta[[col]]) & !is.na(meta$group)
  sub <- meta[cc, ]
  v <- sub[[col]]
  sub$v <- if (length(unique(v)) <= 5) factor(v) else v
  dd <- as.dist(m[cc, cc])
  fit <- adonis2(dd ~ group + v, data = sub, by = "margin", permutations = 99)
  rownames(fit) <- c("group", col, "Residual", "Total")
  add(paste("group +", col), fit)
}
res <- do.call(rbind, rows)
write.table(res, file.path(out, "adonis2_margin.tsv"), sep = "\t", quote = FALSE, row.names = FALSE)
writeLines(c(paste("vegan", packageVersion("vegan")), R.version.string), file.path(out, "versions.txt"))
