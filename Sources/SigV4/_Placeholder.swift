// Placeholder until the module lands; safe to delete.
