"""Integration events: the versioned contracts that cross organisations."""
