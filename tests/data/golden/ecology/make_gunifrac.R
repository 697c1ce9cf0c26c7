# Generalized UniFrac reference values from R's GUniFrac package.
#
# Usage (normally invoked by make_golden.py, which first writes tiny_table.tsv
# and tiny_tree.nwk):
#     Rscript tests/data/golden/ecology/make_gunifrac.R
#
# Writes crosscheck/gunifrac_<dataset>_<d>.lsmat.tsv (tab-separated lsmat
# layout, values as %.17g) for d in d_0.5, d_1, d_UW. make_golden.py turns
# d_0.5 / d_1 into the golden generalized_unifrac_alpha*.lsmat.tsv files.
suppressPackageStartupMessages({
  library(ape)
  library(GUniFrac)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- normalizePath(dirname(file_arg))
repo <- normalizePath(file.path(here, "..", "..", "..", ".."))
out_dir <- file.path(here, "crosscheck")
dir.create(out_dir, showWarnings = FALSE)

read_features_by_samples <- function(path) {
  # features are rows, samples are columns; first header cell is empty or
  # "#OTU ID". Keep ids as character.
  tab <- read.delim(path, row.names = 1, check.names = FALSE,
                    colClasses = "character", comment.char = "",
                    na.strings = "NA")
  m <- apply(as.matrix(tab), 2, as.numeric)
  rownames(m) <- rownames(tab)
  if (anyNA(m)) stop("NA in table ", path)
  t(m)  # samples x features, as GUniFrac wants
}

write_lsmat <- function(d, path) {
  ids <- rownames(d)
  con <- file(path, "w")
  writeLines(paste(c("", ids), collapse = "\t"), con)
  for (i in seq_along(ids)) {
    writeLines(paste(c(ids[i], sprintf("%.17g", d[i, ])), collapse = "\t"), con)
  }
  close(con)
}

datasets <- list(
  globalpatterns = c(file.path(repo, "examples/data/phyloseq/GlobalPatterns.otu.tsv"),
                     file.path(repo, "examples/data/phyloseq/GlobalPatterns.tree.nwk")),
  tiny = c(file.path(here, "tiny_table.tsv"), file.path(here, "tiny_tree.nwk"))
)

for (name in names(datasets)) {
  otu <- read_features_by_samples(datasets[[name]][1])
  tree <- read.tree(datasets[[name]][2])
  cat(name, ": ", nrow(otu), " samples x ", ncol(otu), " features; tree rooted=",
      is.rooted(tree), " tips=", length(tree$tip.label), "\n", sep = "")
  t0 <- Sys.time()
  res <- GUniFrac(otu, tree, alpha = c(0.5, 1))$unifracs
  cat("  GUniFrac took ", format(Sys.time() - t0), "\n", sep = "")
  for (d in c("d_0.5", "d_1", "d_UW")) {
    write_lsmat(res[, , d], file.path(out_dir, sprintf("gunifrac_%s_%s.lsmat.tsv", name, d)))
  }
}
cat("GUniFrac version: ", as.character(packageVersion("GUniFrac")),
    "; ape version: ", as.character(packageVersion("ape")),
    "; ", R.version.string, "\n", sep = "")
