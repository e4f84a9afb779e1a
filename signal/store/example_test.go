package store_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shoal-live/shoal/signal/store"
)

// A broadcaster's account, a stream with its key, and a chat line.
func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Path: store.Memory}) // filepath.Join(dataDir, store.FileName) in the server
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	acct, err := db.CreateAccount(ctx, "alice", "$argon2id$v=19$…") // auth.HashPassword makes the hash
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := db.CreateStream(ctx, store.NewStream{Name: "live", Title: "Alice live", OwnerID: acct.ID})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("key length:", len(s.Key))

	_, err = db.CreateStream(ctx, store.NewStream{Name: "LIVE", OwnerID: acct.ID})
	fmt.Println(err)

	if _, err := db.AppendChat(ctx, store.ChatMessage{StreamID: s.ID, Nickname: "bob", Text: "hi!"}); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := db.Ban(ctx, store.Ban{StreamID: s.ID, Kind: store.BanNickname, Value: "troll", Until: time.Now().Add(10 * time.Minute)}); err != nil {
		fmt.Println(err)
		return
	}
	msgs, _ := db.RecentChat(ctx, s.ID, 50)
	for _, m := range msgs {
		fmt.Printf("%s: %s\n", m.Nickname, m.Text)
	}
	_, banned, _ := db.Banned(ctx, s.ID, "Troll", "")
	fmt.Println("Troll banned:", banned)
	// Output:
	// key length: 26
	// create stream "LIVE": store: already exists
	// bob: hi!
	// Troll banned: true
}
