"""The paper's published numbers and the artifacts that put ours beside them: tables,
figures, the scorecard."""
