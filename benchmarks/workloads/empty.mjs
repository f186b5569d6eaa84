// An empty ES module: what a bare ESM script costs to start.
