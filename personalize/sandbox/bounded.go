package sandbox

// ring keeps the last max values pushed, in order.
type ring[T any] struct {
	buf   []T
	start int // index of the oldest value once the buffer is full
	max   int
}

func newRing[T any](max int) ring[T] { return ring[T]{max: max} }

func (r *ring[T]) push(v T) {
	if len(r.buf) < r.max {
		r.buf = append(r.buf, v)
		return
	}
	r.buf[r.start] = v
	r.start = (r.start + 1) % r.max
}

// all returns a copy of the values, oldest first.
func (r *ring[T]) all() []T {
	out := make([]T, 0, len(r.buf))
	out = append(out, r.buf[r.start:]...)
	return append(out, r.buf[:r.start]...)
}

func (r *ring[T]) len() int { return len(r.buf) }

func (r *ring[T]) reset() {
	r.buf = nil
	r.start = 0
}

// fifoMap is a map holding at most max keys: adding a new key beyond that forgets the key
// added first.
type fifoMap[K comparable, V any] struct {
	m     map[K]V
	order []K
	head  int
	max   int
}

func newFIFOMap[K comparable, V any](max int) fifoMap[K, V] {
	return fifoMap[K, V]{m: make(map[K]V), max: max}
}

func (f *fifoMap[K, V]) get(k K) (V, bool) {
	v, ok := f.m[k]
	return v, ok
}

func (f *fifoMap[K, V]) set(k K, v V) {
	if _, ok := f.m[k]; ok {
		f.m[k] = v
		return
	}
	for len(f.m) >= f.max && f.head < len(f.order) {
		delete(f.m, f.order[f.head])
		var zero K
		f.order[f.head] = zero
		f.head++
	}
	if f.head > len(f.order)/2 && f.head > 64 {
		f.order = append(f.order[:0:0], f.order[f.head:]...)
		f.head = 0
	}
	f.m[k] = v
	f.order = append(f.order, k)
}

func (f *fifoMap[K, V]) len() int { return len(f.m) }

func (f *fifoMap[K, V]) reset() {
	f.m = make(map[K]V)
	f.order = nil
	f.head = 0
}
