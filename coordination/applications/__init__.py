"""The service layer: one eventsourcing Application per organisation role."""
