package looplab.pipelines.run.tensorboard

import java.io.ByteArrayOutputStream

/**
 * The protobuf fields of TensorFlow's `Event` and `Summary` that scalar logging uses, encoded by
 * hand: `Event { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary =
 * 5; }`, `Summary { repeated Value value = 1; }`, `Value { string tag = 1; float simple_value = 2;
 * }`.
 */
internal object EventProto {
    fun fileVersion(wallTime: Double): ByteArray = message {
        double(1, wallTime)
        bytes(3, "brain.Event:2".toByteArray())
    }

    fun scalars(wallTime: Double, step: Long, values: Map<String, Double>): ByteArray = message {
        double(1, wallTime)
        varint(2, step)
        bytes(
            5,
            message {
                for ((tag, value) in values) bytes(
                    1,
                    message {
                        bytes(1, tag.toByteArray())
                        float(2, value.toFloat())
                    },
                )
            },
        )
    }

    private fun message(block: Writer.() -> Unit): ByteArray =
        Writer().apply(block).out.toByteArray()

    class Writer {
        val out = ByteArrayOutputStream()

        fun double(field: Int, value: Double) {
            key(field, 1)
            fixed(java.lang.Double.doubleToRawLongBits(value), 8)
        }

        fun float(field: Int, value: Float) {
            key(field, 5)
            fixed(java.lang.Float.floatToRawIntBits(value).toLong(), 4)
        }

        fun varint(field: Int, value: Long) {
            key(field, 0)
            raw(value)
        }

        fun bytes(field: Int, value: ByteArray) {
            key(field, 2)
            raw(value.size.toLong())
            out.write(value)
        }

        private fun key(field: Int, wireType: Int) = raw((field shl 3 or wireType).toLong())

        private fun fixed(bits: Long, size: Int) {
            for (i in 0 until size) out.write((bits ushr (8 * i)).toInt() and 0xff)
        }

        private fun raw(value: Long) {
            var v = value
            while (v and 0x7fL.inv() != 0L) {
                out.write(((v and 0x7f) or 0x80).toInt())
                v = v ushr 7
            }
            out.write(v.toInt())
        }
    }
}
