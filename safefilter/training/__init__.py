"""Training-data generation for the learned safefilter classifier (synthetic, template-based)."""
