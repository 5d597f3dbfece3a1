"""The event store: the recorder, the mapper with crypto-shredding, the transcoder, decoding, tamper evidence."""
