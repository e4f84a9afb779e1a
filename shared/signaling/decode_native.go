//go:build !js

package signaling

import "encoding/json"

// unmarshal fills m from the JSON document b.
func unmarshal(b []byte, m *Message) error { return json.Unmarshal(b, m) }
