# Golden values for `da --method lmm` from R's lme4 and lmerTest (Debian r-cran-lme4 1.1-31,
# r-cran-lmertest 3.1-3). Run from the repository root after make_lmm_golden.py (which writes
# the inputs synthetic_data.tsv and peerj32_log10.tsv):
#
#     Rscript tests/data/golden/longitudinal/make_lmm_golden.R
#
# Each model is `y ~ time * group + (1 | subject)` (and `(1 + time | subject)` for y4, y5 of the
# synthetic set), REML, with the optimiser's tolerances tightened so that the stored optimum is
# the optimum (lme4's defaults stop near 1e-6 of it). Fixed effects with Satterthwaite degrees of
# freedom come from lmerTest's summary().
# Also y ~ time + (1 | subject) per probiotic-trial taxon for `associate --subject`.
suppressPackageStartupMessages(library(lmerTest))
here <- "tests/data/golden/longitudinal"

control <- lmerControl(optimizer = "bobyqa",
                       optCtrl = list(rhobeg = 0.2, rhoend = 1e-12, maxfun = 1e5),
                       check.conv.singular = "ignore")

one <- function(data, response, slope, feature) {
  re <- if (slope) "(1 + time | subject)" else "(1 | subject)"
  f <- as.formula(paste(response, "~ time * group +", re))
  m <- lmer(f, data = data, REML = TRUE, control = control)
  co <- summary(m)$coefficients
  vc <- as.data.frame(VarCorr(m))
  subject_var <- vc$vcov[vc$grp == "subject" & vc$var1 == "(Intercept)" & is.na(vc$var2)]
  resid_var <- vc$vcov[vc$grp == "Residual"]
  slope_var <- if (slope) vc$vcov[vc$grp == "subject" & vc$var1 == "time" & is.na(vc$var2)] else NA
  terms <- rownames(co)
  # R's names (groupLGG, time:groupLGG) in patsy's spelling, as gutjoint writes them.
  level <- levels(data$group)[2]
  terms <- sub(paste0("^group", level, "$"), paste0("group[T.", level, "]"), terms)
  terms <- sub(paste0(":group", level, "$"), paste0(":group[T.", level, "]"), terms)
  terms <- sub("^\\(Intercept\\)$", "Intercept", terms)
  data.frame(feature = feature, model = if (slope) "slope" else "intercept", term = terms,
             estimate = sprintf("%.17g", co[, "Estimate"]),
             se = sprintf("%.17g", co[, "Std. Error"]),
             df = sprintf("%.17g", co[, "df"]),
             t = sprintf("%.17g", co[, "t value"]),
             p = sprintf("%.17g", co[, "Pr(>|t|)"]),
             subject_variance = sprintf("%.17g", subject_var),
             slope_variance = sprintf("%.17g", slope_var),
             residual_variance = sprintf("%.17g", resid_var),
             reml_criterion = sprintf("%.17g", REMLcrit(m)),
             singular = isSingular(m),
             stringsAsFactors = FALSE)
}

syn <- read.delim(file.path(here, "synthetic_data.tsv"), check.names = FALSE)
syn$group <- factor(syn$group, levels = c("control", "treated"))
out <- list()
for (k in c("y1", "y2", "y3", "y4", "y5")) {
  out[[length(out) + 1]] <- one(syn, k, FALSE, k)
  if (k %in% c("y4", "y5")) out[[length(out) + 1]] <- one(syn, k, TRUE, k)
}
write.table(do.call(rbind, out), file.path(here, "synthetic_lmertest.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)

pj <- read.delim(file.path(here, "peerj32_log10.tsv"), check.names = FALSE)
pj$group <- factor(pj$group, levels = c("Placebo", "LGG"))
taxa <- setdiff(colnames(pj), c("sample_id", "subject", "group", "time"))
out <- list()
for (i in seq_along(taxa)) {
  pj$y <- pj[[taxa[i]]]
  out[[i]] <- one(pj, "y", FALSE, taxa[i])
}
write.table(do.call(rbind, out), file.path(here, "peerj32_lmertest.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)

# `associate --with time --subject subject`: y ~ time + (1 | subject) per taxon.
out <- list()
for (i in seq_along(taxa)) {
  pj$y <- pj[[taxa[i]]]
  m <- lmer(y ~ time + (1 | subject), data = pj, REML = TRUE, control = control)
  co <- summary(m)$coefficients
  out[[i]] <- data.frame(feature = taxa[i], estimate = sprintf("%.17g", co["time", "Estimate"]),
                         se = sprintf("%.17g", co["time", "Std. Error"]),
                         df = sprintf("%.17g", co["time", "df"]),
                         p = sprintf("%.17g", co["time", "Pr(>|t|)"]), stringsAsFactors = FALSE)
}
write.table(do.call(rbind, out), file.path(here, "peerj32_time_lmertest.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)
