"""Store backends, one per module; each registers its URL schemes with :func:`kg.store.register_backend`."""
