// Placeholder until the tests land; safe to delete.
