"""Request and response models, one module per resource; shared types in `common`."""
