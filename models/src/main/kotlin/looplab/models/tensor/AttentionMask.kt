package looplab.models.tensor

/**
 * Whether position [query] may attend to position [key]: causally (key ≤ query), and with a sliding
 * [window] only to the `window` positions ending at the query. The one rule every attention mask
 * (eager, cached decoding) is built from, so that they cannot disagree.
 */
internal fun mayAttend(query: Int, key: Int, window: Int?): Boolean =
    key <= query && (window == null || key > query - window)
