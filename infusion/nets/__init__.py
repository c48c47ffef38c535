"""The transition operator: networks (MLP, conv) and the model that wraps them (section 3.3.1)."""
