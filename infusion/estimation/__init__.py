"""Likelihood estimators (Table 3.1), Parzen windows (Fig 3.4), Inception score and FID
(Table 3.2)."""
