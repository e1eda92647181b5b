"""The toy world's benchmark data: procedural problems in a text and an image form (world.py)
and the pictures of their quantities (render.py). The harness reads them as the `toy` and
`toy-text` benchmarks and the trainer draws its toy problems and traces from them; the toy
models and their build are training (vold_train/toy)."""
