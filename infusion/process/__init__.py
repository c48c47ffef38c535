"""The infusion chain process: densities, draws of the infusion chain, per-chain log weights
(section 3.3)."""
