package server

// WithPeerHook returns cfg with Config.peerHook set to f: f hears from
// each joined peer's signaling loop after every message the server has
// dealt with (handled so far) and once more when the loop ends (open
// false). Tests wait on it instead of sleeping.
func WithPeerHook(cfg Config, f func(peer string, handled int, open bool)) Config {
	cfg.peerHook = f
	return cfg
}
