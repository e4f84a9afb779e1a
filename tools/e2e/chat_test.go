//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shoal-live/shoal/signal/auth"
	"github.com/shoal-live/shoal/signal/store"
)

// chatReport is what chat.mjs prints.
type chatReport struct {
	Phase        string                     `json:"phase"`
	Dialogs      []map[string]string        `json:"dialogs"`
	Errors       []string                   `json:"errors"`
	Steps        map[string]json.RawMessage `json:"steps"`
	Events       []string                   `json:"events"`
	Screenshots  []string                   `json:"screenshots"`
	HarnessError string                     `json:"harnessError"`
}

// step decodes one step's result into v, failing the test if the step
// failed.
func (r chatReport) step(t *testing.T, name string, v any) bool {
	t.Helper()
	raw, ok := r.Steps[name]
	if !ok {
		t.Errorf("%s: step %q did not run", r.Phase, name)
		return false
	}
	var failed struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(raw, &failed) == nil && failed.Error != "" {
		t.Errorf("%s: step %q failed: %s", r.Phase, name, failed.Error)
		return false
	}
	if v != nil {
		if err := json.Unmarshal(raw, v); err != nil {
			t.Errorf("%s: step %q: %v in %s", r.Phase, name, err, raw)
			return false
		}
	}
	return true
}

func runChat(ctx context.Context, t *testing.T, args ...string) chatReport {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", append([]string{"chat.mjs"}, args...)...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var r chatReport
	if jerr := json.Unmarshal(stdout.Bytes(), &r); jerr != nil {
		t.Fatalf("chat.mjs %v: %v (%v)\nstdout: %s\nstderr: %s", args, err, jerr, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Logf("chat.mjs %s stderr:\n%s", r.Phase, stderr.String())
	}
	if r.HarnessError != "" {
		t.Fatalf("chat.mjs %s: %s", r.Phase, r.HarnessError)
	}
	if len(r.Dialogs) > 0 {
		t.Errorf("%s: a dialog opened (script injection?): %v", r.Phase, r.Dialogs)
	}
	if len(r.Errors) > 0 {
		t.Errorf("%s: uncaught page errors: %v", r.Phase, r.Errors)
	}
	return r
}

// hostPage is the page of another site that embeds the player and records
// the postMessage events it gets. Its iframe delegates camera and microphone
// only for the test's loopback-only namespace: Chromium run with
// --use-fake-ui-for-media-stream then gives the frame raw host ICE
// candidates instead of mDNS names, which nothing resolves there (as
// browser.mjs does for top-level pages). A real site needs only
// "autoplay; fullscreen".
const hostPage = `<!doctype html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>A blog that embeds Shoal</title>
<style>body{font-family:sans-serif;margin:0;padding:16px;background:#fafafa;color:#222}
.frame{position:relative;width:100%%;max-width:720px;aspect-ratio:16/9}
.frame iframe{position:absolute;inset:0;width:100%%;height:100%%;border:0;border-radius:8px}
button{margin:8px 8px 0 0}pre{font-size:11px;max-height:160px;overflow:auto;background:#eee;padding:6px}</style></head>
<body><h1>Our blog</h1><p>Watch our live stream right here:</p>
<div class="frame"><iframe id="player" src="%[1]s/embed/%[2]s?autoplay=1&amp;muted=1&amp;origin=%[3]s" allow="autoplay; fullscreen; camera; microphone" title="Live stream"></iframe></div>
<button id="pause">Pause</button><button id="play">Play</button><pre id="log"></pre>
<script>
window.events = [];
const shoal = %[1]q;
addEventListener('message', (e) => {
  if (e.origin !== shoal || !e.data || e.data.source !== 'shoal') return;
  window.events.push(Object.assign({origin: e.origin}, e.data));
  document.getElementById('log').textContent = window.events.slice(-8).map((x) => JSON.stringify(x)).join('\n');
});
const send = (type) => document.getElementById('player').contentWindow.postMessage({type}, shoal);
document.getElementById('pause').onclick = () => send('pause');
document.getElementById('play').onclick = () => send('play');
</script></body></html>`

// TestChatModerationAndEmbed: two viewers chat on a stream pushed by ffmpeg;
// an HTML message shows as text; the broadcaster (signed in) deletes a
// message and it disappears for everyone; the chat is rate limited; the
// embed, framed by a page on another origin, sends that page ready,
// playing, stats and paused and obeys its commands; a ban covers the
// author's address (every tab is 127.0.0.1) and the studio lifts it; the
// studio changes the password (other sessions end) and signs out
// everywhere; after a restart the chat history is still there.
// Screenshots go to $SHOAL_ARTIFACTS.
func TestChatModerationAndEmbed(t *testing.T) {
	bin := requireTools(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*testTimeout)
	defer cancel()

	// The broadcaster's account, stream and session, made in the store as
	// sign-in would make them (sign-in itself is the studio's test).
	dataDir := t.TempDir()
	db, err := store.Open(ctx, store.Config{Path: filepath.Join(dataDir, store.FileName)})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := auth.CreateAccount(ctx, db, "host", "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	st, err := db.CreateStream(ctx, store.NewStream{Name: "show", Title: "Friday Night Show",
		Description: "Live from the e2e test: a test pattern, a tone, and a chat.", OwnerID: acct.ID})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := db.CreateSession(ctx, acct.ID, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	addr, rtmpAddr := freeAddr(t), freeAddr(t)
	base := "http://" + addr
	shots := artifactsDir(t)
	// Every tab is 127.0.0.1: seven browser contexts with their peers,
	// WebSockets and pollers can pass the 128 connections one address may
	// hold, which a real audience never shares.
	args := []string{"-data-dir", dataDir, "-rtmp-addr", rtmpAddr, "-demo", "demo", "-max-http-conns-per-ip", "1024"}

	t.Run("live", func(t *testing.T) {
		startServer(ctx, t, bin, addr, args...)
		enc := startEncoder(ctx, t, "rtmp://"+rtmpAddr+"/live/"+st.Key)
		defer func() {
			if out := enc.stop(); t.Failed() && out != "" {
				t.Logf("ffmpeg: %s", out)
			}
		}()

		r := runChat(ctx, t, "--phase", "chat", "--base", base, "--stream", "show", "--token", token, "--shots", shots)
		r.step(t, "joined", nil)
		var hooks []string
		if r.step(t, "no test hooks", &hooks) && len(hooks) != 0 {
			t.Errorf("the watch page published %v without a test asking", hooks)
		}
		var mod struct{ Owner, Viewer string }
		if r.step(t, "moderator", &mod) && (mod.Owner != "true" || mod.Viewer != "false") {
			t.Errorf("moderator flags: owner %q, viewer %q", mod.Owner, mod.Viewer)
		}
		type line struct {
			Nick, Text, HTML string
			Owner            bool
		}
		var both struct{ Alice, Bob []line }
		if r.step(t, "both see both", &both) {
			for name, lines := range map[string][]line{"alice": both.Alice, "bob": both.Bob} {
				got := []string{}
				for _, l := range lines {
					got = append(got, l.Nick+": "+l.Text)
				}
				if !slices.Contains(got, "alice: hello from alice") || !slices.Contains(got, "bob: hi from bob") {
					t.Errorf("%s sees %q, want both messages", name, got)
				}
			}
		}
		var html struct {
			Bob        []line
			ImgsInChat int
		}
		if r.step(t, "html as text", &html) {
			if len(html.Bob) != 1 || html.Bob[0].HTML != "&lt;img src=x onerror=alert(1)&gt;" || html.ImgsInChat != 0 {
				t.Errorf("an HTML message was not shown as text: %+v", html)
			}
		}
		var own []line
		if r.step(t, "owner says hi", &own) && (len(own) != 1 || !own[0].Owner) {
			t.Errorf("the broadcaster's message is not marked: %+v", own)
		}
		var del struct{ Alice, Bob []string }
		if r.step(t, "delete", &del) {
			for name, texts := range map[string][]string{"alice": del.Alice, "bob": del.Bob} {
				if slices.Contains(texts, "hi from bob") || !slices.Contains(texts, "hello from alice") {
					t.Errorf("after the delete %s sees %q", name, texts)
				}
			}
		}
		var modButtons int
		if r.step(t, "viewer has no moderation", &modButtons) && modButtons != 0 {
			t.Errorf("a viewer sees %d moderation controls", modButtons)
		}
		var notice string
		if r.step(t, "rate limit", &notice) && !strings.Contains(notice, "too fast") {
			t.Errorf("rate limit notice %q", notice)
		}
		var kept int
		if r.step(t, "too long", &kept) && kept != 500 {
			t.Errorf("the message box kept %d characters, want 500", kept)
		}
		var count struct{ Viewers, Chat string }
		if r.step(t, "viewer count", &count) && (!strings.Contains(count.Viewers, "watching") || !strings.Contains(count.Chat, "here")) {
			t.Errorf("viewer count %+v", count)
		}
		var overlay []string
		if r.step(t, "stats overlay", &overlay) && len(overlay) != 4 {
			t.Errorf("stats overlay %q", overlay)
		}
		r.step(t, "screenshots", nil)
		var banned string
		if r.step(t, "ban by address", &banned) && !strings.Contains(banned, "banned") {
			t.Errorf("a new nickname from the banned address was told %q, want a ban", banned)
		}

		sp := runChat(ctx, t, "--phase", "studio", "--base", base, "--stream", "show", "--token", token, "--shots", shots)
		var still string
		if sp.step(t, "still banned", &still) && !strings.Contains(still, "banned") {
			t.Errorf("a new tab from the banned address was told %q, want a ban", still)
		}
		var lifted struct{ Listed []string }
		if sp.step(t, "studio lifts the ban", &lifted) &&
			(len(lifted.Listed) != 1 || !strings.Contains(lifted.Listed[0], "bob") || !strings.Contains(lifted.Listed[0], "nickname and address")) {
			t.Errorf("the studio listed %q, want one line for bob's nickname and address", lifted.Listed)
		}
		var account struct{ Status, OldURL, AfterSignOut string }
		if sp.step(t, "studio account", &account) &&
			(!strings.Contains(account.Status, "Password changed") || account.OldURL != "/login" || account.AfterSignOut != "/login") {
			t.Errorf("password change and sign out everywhere: %+v, want the old session and then every session signed out", account)
		}
		t.Logf("chat: screenshots %v; overlay %q; counts %+v", r.Screenshots, overlay, count)

		// The embed, framed by a page on a second origin.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		hostURL := "http://" + ln.Addr().String()
		page := fmt.Sprintf(hostPage, base, "demo", hostURL)
		hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page))
		})}
		go hs.Serve(ln)
		defer hs.Close()

		e := runChat(ctx, t, "--phase", "embed", "--base", base, "--host", hostURL+"/host.html", "--embed-stream", "demo", "--shots", shots)
		for _, s := range []string{"ready", "playing", "pause command", "play command", "screenshots"} {
			e.step(t, s, nil)
		}
		var embedHooks []string
		if e.step(t, "no test hook in the embed", &embedHooks) && len(embedHooks) != 0 {
			t.Errorf("the embed published %v without a test asking", embedHooks)
		}
		var stats struct {
			Viewers  *int     `json:"viewers"`
			P2PShare *float64 `json:"p2pShare"`
			Peers    int      `json:"peers"`
			Latency  *float64 `json:"latency"`
			Stream   string   `json:"stream"`
		}
		if e.step(t, "stats", &stats) && (stats.Viewers == nil || *stats.Viewers < 1 || stats.P2PShare == nil || stats.Stream != "demo") {
			t.Errorf("stats event %s", e.Steps["stats"])
		}
		var origins struct {
			Host    string
			Senders []string
		}
		if e.step(t, "origins", &origins) && (origins.Host == base || !slices.Equal(origins.Senders, []string{base})) {
			t.Errorf("origins: host %s, events from %v; want a different host origin and events from %s", origins.Host, origins.Senders, base)
		}
		t.Logf("embed: events %v; last stats %s; screenshots %v", e.Events, e.Steps["stats"], e.Screenshots)
	})

	t.Run("after restart", func(t *testing.T) {
		startServer(ctx, t, bin, addr, args...)
		r := runChat(ctx, t, "--phase", "after", "--base", base, "--stream", "show")
		var history []string
		if r.step(t, "history", &history) {
			want := []string{"hello from alice", "<img src=x onerror=alert(1)>", "welcome to the show"}
			for _, w := range want {
				if !slices.Contains(history, w) {
					t.Errorf("after the restart the history %q lacks %q", history, w)
				}
			}
			if slices.Contains(history, "hi from bob") {
				t.Errorf("a deleted message came back after the restart: %q", history)
			}
		}
	})
}
