package rtmp

import (
	"net/url"
	"testing"
)

func TestStreamKey(t *testing.T) {
	cases := []struct {
		url  string
		key  string
		isOK bool
	}{
		{"rtmp://h/live/abc", "abc", true},
		{"rtmp://h:1935/live/abc?token=1", "abc", true},
		{"rtmp://h/live/a%20b", "a b", true},
		{"rtmp://h/live/", "", false},
		{"rtmp://h/live", "", false},
		{"rtmp://h/other/abc", "", false},
		{"rtmp://h/live/abc/def", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			u, err := url.Parse(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			key, ok := streamKey(u)
			if key != tc.key || ok != tc.isOK {
				t.Errorf("streamKey = %q, %v; want %q, %v", key, ok, tc.key, tc.isOK)
			}
		})
	}
	if _, ok := streamKey(nil); ok {
		t.Error("streamKey(nil) ok")
	}
}
