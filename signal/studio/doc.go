// Package studio is the broadcaster's side of the server: the first-account
// setup, sign-in and sign-out pages, the studio page and its JSON API under
// /api/studio (streams, keys, live status, chat bans, password and
// sessions). It owns the setup token and the studio's offload samples;
// accounts and sessions are package auth's, streams' records the store's,
// and the live state of a stream is asked of the server's streams through
// the narrow Streams interface.
//
//	st := studio.New(studio.Config{Store: db, Streams: live, Pages: frontend.FS, Page: studioPage, NotFound: notFound})
//	st.Mount(router)           // /login, /setup, /logout, /studio, /api/studio
//	st.LogSetupURL(ln.Addr())  // while no account exists
//
// It imports auth, store, streams (for its State type) and jsonhttp, never
// the root server package; its tests drive it through the whole server.
package studio
