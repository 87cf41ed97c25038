package looplab.curriculum.text

import com.knuddels.jtokkit.Encodings
import com.knuddels.jtokkit.api.EncodingType
import com.knuddels.jtokkit.api.IntArrayList
import looplab.dsl.TiktokenEncoding

/**
 * OpenAI's byte-pair encodings through jtokkit, whose jar carries the rank files. `<|endoftext|>`
 * serves as BOS, EOS and padding (padding never carries loss, so sharing the id is harmless); the
 * chat tags get ids after the encoding's last one.
 */
public class TiktokenTokenizer(public val encoding: TiktokenEncoding) : Tokenizer {
    private val impl =
        registry.getEncoding(
            when (encoding) {
                TiktokenEncoding.R50k -> EncodingType.R50K_BASE
                TiktokenEncoding.Cl100k -> EncodingType.CL100K_BASE
            }
        )
    private val endOfText =
        when (encoding) {
            TiktokenEncoding.R50k -> 50256
            TiktokenEncoding.Cl100k -> 100257
        }
    private val baseSize =
        when (encoding) {
            TiktokenEncoding.R50k -> 50257
            TiktokenEncoding.Cl100k -> 100277
        }
    private val tags = ChatTagIds(baseSize)

    override val pad: Int = endOfText
    override val bos: Int = endOfText
    override val eos: Int = endOfText
    override val vocabSize: Int = baseSize + ChatTags.all.size

    override fun encode(text: String): IntArray {
        val out = IntArrayList()
        tags.splitter.split(
            text,
            { part ->
                val ids = impl.encodeOrdinary(part)
                for (i in 0 until ids.size()) out.add(ids.get(i))
            },
            { out.add(it) },
        )
        return out.toArray()
    }

    override fun decode(ids: IntArray): String {
        val sb = StringBuilder()
        val run = IntArrayList()
        fun flush() {
            if (!run.isEmpty) {
                sb.append(impl.decode(run))
                run.clear()
            }
        }
        for (id in ids) when {
            id == endOfText -> Unit
            id in tags.text -> {
                flush()
                sb.append(tags.text.getValue(id))
            }
            else -> run.add(id)
        }
        flush()
        return sb.toString()
    }

    override fun specialId(token: String): Int? = tags.ids[token]

    private companion object {
        val registry = Encodings.newLazyEncodingRegistry()
    }
}
