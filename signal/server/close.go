package server

import "fmt"

// Close releases what New acquired: the private in-memory store it opened
// when Config.Store was nil (a caller's store is the caller's to close).
// Serve calls it when it returns; call it for a Server that never serves.
// Calling it again does nothing.
func (s *Server) Close() error {
	if s.cfg.Store != nil {
		return nil
	}
	var err error
	s.dbOnce.Do(func() {
		if e := s.db.Close(); e != nil {
			err = fmt.Errorf("server: close: %w", e)
		}
	})
	return err
}
