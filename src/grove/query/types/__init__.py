"""One module per native query type, each registering its toolchest (see grove.query.registry)."""
