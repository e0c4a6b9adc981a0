"""Asset kinds: one module per kind (or closely coupled pair) holds the spec model, the field
rules as data, the behaviour the engine asks for, and the kind's metadata (manifest key, noun,
import shaping). Pure: no I/O, no SDK. ``registry`` is where kinds plug in."""
