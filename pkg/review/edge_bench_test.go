package review

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// BenchmarkSlowLoris200 replays the slow-loris attack the edge bounds (docs/design.md, HTTP edge):
// 200 connections each announce a MaxBodyBytes-1 body and send one byte every 100 ms. It reports how long
// the server held the connections (max, in seconds; the clients give up after 5 s) and how many
// were refused at once with 429.
// Run with -benchtime 1x: one iteration is one attack.
func BenchmarkSlowLoris200(b *testing.B) {
	for _, c := range []struct {
		name string
		h    http.Handler
	}{
		{"bare-webhook", allowAll()},
		{"edge-1s-deadline-32-slots", NewEdge(allowAll(), EdgeOptions{Timeout: time.Second, MaxConcurrent: 32})},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := served(b, c.h)
			for i := 0; i < b.N; i++ {
				var mu sync.Mutex
				var maxHeld time.Duration
				refused, stillOpen := 0, 0
				var wg sync.WaitGroup
				for j := 0; j < 200; j++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						held, status, gaveUp, err := slowLoris(srv.Listener.Addr().String(), 100*time.Millisecond, 5*time.Second)
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						defer mu.Unlock()
						if status == "429" {
							refused++
							return
						}
						if gaveUp {
							stillOpen++
						}
						maxHeld = max(maxHeld, held)
					}()
				}
				wg.Wait()
				b.ReportMetric(maxHeld.Seconds(), "max-held-s")
				b.ReportMetric(float64(refused), "refused-429")
				b.ReportMetric(float64(stillOpen), "open-at-5s")
			}
		})
	}
}
