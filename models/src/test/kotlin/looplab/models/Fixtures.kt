package looplab.models

import looplab.dsl.ModelSpec
import looplab.dsl.Recursion
import looplab.models.eager.EagerBackend

/** Tiny shapes: the checks are about structure, not scale. */
fun tinySpec(blocks: Int = 2, loops: Int = 1, width: Int = 32, heads: Int = 4) =
    ModelSpec(name = "tiny", width = width, heads = heads, recursive = Recursion(blocks, loops), contextLength = 16, ffnHidden = 48)

/** One backend for the whole test JVM: DJL allows one gradient collector per JVM, on one thread. */
val testBackend: EagerBackend by lazy { EagerBackend() }
