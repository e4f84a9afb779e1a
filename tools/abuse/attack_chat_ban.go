package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/shoal-live/shoal/shared/signaling"
)

// chat_ban: a viewer banned from a stream's chat reconnects again and again,
// each time with a new nickname, and tries to post. Before #12 a ban covered
// the nickname and one connection, so the second attempt got through; now it
// covers a salted hash of the address, and every attempt must be refused,
// while an honest viewer from another address (127.0.0.2) still chats.
//
// Bans need a moderator, the owner of a stream with a row in the store: the
// attack makes the first account on the fresh server with the setup link
// the server logged (or, on a server where an earlier round made it, signs
// in), creates a stream of its own, and joins its chat signed in. So it can
// run again and again against one server, as the soak under attack does.
func init() {
	register(Attack{Name: "chat_ban", Run: attackChatBan})
}

const chatBanReconnects = 20

func attackChatBan(ctx context.Context, tg Target) (string, error) {
	base := "http://" + tg.HTTP
	rb := make([]byte, 4)
	rand.Read(rb)
	room := "banroom-" + hex.EncodeToString(rb) // a new room each round: bans are per stream
	mod, err := newModerator(ctx, tg, base, room)
	if err != nil {
		return "", err
	}
	wsURL := "ws://" + tg.HTTP + "/api/signal"
	modConn, err := joinChat(ctx, wsURL, room, "", mod.cookie)
	if err != nil {
		return "", fmt.Errorf("moderator: %w", err)
	}
	defer modConn.Close("done")

	// The troll posts once and is banned for good by message.
	troll, err := joinChat(ctx, wsURL, room, "127.0.0.1", "")
	if err != nil {
		return "", fmt.Errorf("troll: %w", err)
	}
	msg, err := say(ctx, troll, "troll", "buy followers at …")
	troll.Close("banned")
	if err != nil {
		return "", fmt.Errorf("troll's first message: %w", err)
	}
	if err := modConn.Send(ctx, signaling.Message{Type: signaling.TypeChatBan, MsgID: msg.MsgID, Text: "spam"}); err != nil {
		return "", fmt.Errorf("ban: %w", err)
	}
	// The server handles a connection's messages in order: once the
	// moderator's next message comes back, the ban is stored.
	if _, err := say(ctx, modConn, "host", "the troll is gone"); err != nil {
		return "", fmt.Errorf("moderator after the ban: %w", err)
	}

	// Reconnect with a new nickname each time: every one must be refused.
	refused := 0
	for i := range chatBanReconnects {
		c, err := joinChat(ctx, wsURL, room, "127.0.0.1", "")
		if err != nil {
			return "", fmt.Errorf("reconnect %d: %w", i, err)
		}
		got, err := say(ctx, c, fmt.Sprintf("fresh-name-%d", i), "I'm new here, honest")
		c.Close("again")
		var ce *chatError
		switch {
		case errors.As(err, &ce) && ce.code == signaling.CodeChatBanned:
			refused++
		case err != nil:
			return "", fmt.Errorf("reconnect %d: %w", i, err)
		default:
			return "", fmt.Errorf("reconnect %d as %q: the banned address posted message %d", i, got.Nick, got.MsgID)
		}
	}

	// An honest viewer on another address is not caught by the ban.
	honest, err := joinChat(ctx, wsURL, room, "127.0.0.2", "")
	if err != nil {
		return "", fmt.Errorf("honest viewer: %w", err)
	}
	defer honest.Close("done")
	if _, err := say(ctx, honest, "regular", "hello all"); err != nil {
		return "", fmt.Errorf("an honest viewer from 127.0.0.2 could not chat: %w", err)
	}

	// The studio lists the ban by whom it was for, never the address.
	var bans []struct{ Kind, Label string }
	if err := mod.getJSON(ctx, base+"/api/studio/streams/"+room+"/bans", &bans); err != nil {
		return "", err
	}
	if len(bans) != 2 {
		return "", fmt.Errorf("the studio lists %d bans, want the nickname's and the address's: %+v", len(bans), bans)
	}
	return fmt.Sprintf("chat ban by salted address hash: %d of %d reconnects with new nicknames refused; a viewer from another address still chats; the studio lists %s and %s bans of %q",
		refused, chatBanReconnects, bans[0].Kind, bans[1].Kind, bans[0].Label), nil
}

// moderator is a signed-in broadcaster owning one stream.
type moderator struct {
	client *http.Client
	cookie string
	csrf   string
}

var setupLink = regexp.MustCompile(`setup="?(http://[^"\s]+/setup\?token=[^"\s]+)`)

// newModerator makes the first account with the setup link in the server's
// log, and a stream it owns.
func newModerator(ctx context.Context, tg Target, base, stream string) (*moderator, error) {
	link, err := findInLog(tg.Log, setupLink)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(link)
	if err != nil {
		return nil, fmt.Errorf("setup link %q: %w", link, err)
	}
	jar, _ := cookiejar.New(nil)
	m := &moderator{client: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	pw := "abuse-moderator-password"
	form := url.Values{"username": {"moderator"}, "password": {pw}, "confirm": {pw}, "token": {u.Query().Get("token")}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/setup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	resp.Body.Close()
	b, _ := url.Parse(base)
	session := func() {
		for _, c := range jar.Cookies(b) {
			if c.Name == "shoal_session" {
				m.cookie = c.Value
			}
		}
	}
	if session(); m.cookie == "" {
		// The setup link is good once: an earlier round made the account.
		login := url.Values{"username": {"moderator"}, "password": {pw}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/login", strings.NewReader(login.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		lresp, err := m.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("sign in: %w", err)
		}
		lresp.Body.Close()
		if session(); m.cookie == "" {
			return nil, fmt.Errorf("setup: no session (status %d), sign-in: status %d", resp.StatusCode, lresp.StatusCode)
		}
	}
	var sess struct{ CSRFToken string }
	if err := m.getJSON(ctx, base+"/api/studio/session", &sess); err != nil {
		return nil, err
	}
	m.csrf = sess.CSRFToken
	body, _ := json.Marshal(map[string]string{"name": stream})
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/studio/streams", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", m.csrf)
	resp, err = m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("create stream: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return nil, fmt.Errorf("create stream: status %d", resp.StatusCode)
	}
	return m, nil
}

func (m *moderator) getJSON(ctx context.Context, u string, v any) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := m.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	return nil
}

// findInLog returns the first submatch of re in the log file.
func findInLog(path string, re *regexp.Regexp) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("server log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			return m[1], nil
		}
	}
	return "", fmt.Errorf("no %s in the server log %s", re, path)
}

// joinChat opens a chat connection to stream from the local address from
// ("" for any), with a session cookie if given, and reads its welcome.
func joinChat(ctx context.Context, wsURL, stream, from, cookie string) (signaling.Conn, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
	hdr := http.Header{}
	if cookie != "" {
		hdr.Set("Cookie", "shoal_session="+cookie)
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(dctx, wsURL, &websocket.DialOptions{HTTPClient: hc, HTTPHeader: hdr})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	c := signaling.WebSocket(ws)
	if err := c.Send(dctx, signaling.Message{Type: signaling.TypeChatJoin, Stream: stream}); err != nil {
		c.Close("")
		return nil, err
	}
	for {
		m, err := c.Recv(dctx)
		if err != nil {
			c.Close("")
			return nil, fmt.Errorf("waiting for the welcome: %w", err)
		}
		switch m.Type {
		case signaling.TypeChatWelcome:
			return c, nil
		case signaling.TypeError:
			c.Close("")
			return nil, &chatError{m.Code, m.Text}
		}
	}
}

// chatError is an error message from the server.
type chatError struct{ code, text string }

func (e *chatError) Error() string { return e.code + ": " + e.text }

// say posts text as nick and returns the server's echo, or the error it
// answered.
func say(ctx context.Context, c signaling.Conn, nick, text string) (signaling.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Send(ctx, signaling.Message{Type: signaling.TypeChatSend, Nick: nick, Text: text}); err != nil {
		return signaling.Message{}, err
	}
	for {
		m, err := c.Recv(ctx)
		if err != nil {
			return signaling.Message{}, err
		}
		switch {
		case m.Type == signaling.TypeChatMsg && m.Nick == nick && m.Text == text:
			return m, nil
		case m.Type == signaling.TypeError:
			return signaling.Message{}, &chatError{m.Code, m.Text}
		}
	}
}
