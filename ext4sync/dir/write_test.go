package dir

import (
	"fmt"
	"math/rand"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var reLinks = regexp.MustCompile(`Links: (\d+)`)

func inodeOf(t testing.TB, img, path string) (ino uint32, links int) {
	t.Helper()
	st := debugfs(t, img, false, "stat "+path)
	m, l := reInode.FindStringSubmatch(st), reLinks.FindStringSubmatch(st)
	if m == nil || l == nil {
		t.Fatalf("stat %s:\n%s", path, st)
	}
	n, _ := strconv.ParseUint(m[1], 10, 32)
	links, _ = strconv.Atoi(l[1])
	return uint32(n), links
}

func addLinks(t testing.TB, img, path string, delta int) {
	t.Helper()
	if delta == 0 {
		return
	}
	_, n := inodeOf(t, img, path)
	debugfs(t, img, true, fmt.Sprintf("sif %s links_count %d", path, n+delta))
}

// model is the expected content of a directory while a scenario edits it.
type model struct {
	want   map[string]Entry
	target Entry // what new names point at
	delta  int   // change of the target's link count
}

func (m *model) names() []string {
	var out []string
	for n := range m.want {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (m *model) entries() []Entry {
	var out []Entry
	for _, e := range m.want {
		out = append(out, e)
	}
	return out
}

func (m *model) add(t testing.TB, d *Dir, name string) {
	t.Helper()
	e := m.target
	e.Name = name
	if err := d.Add(e); err != nil {
		t.Fatalf("Add(%q): %v", name, err)
	}
	m.want[name] = e
	m.delta++
}

func (m *model) remove(t testing.TB, d *Dir, name string) {
	t.Helper()
	if err := d.Remove(name); err != nil {
		t.Fatalf("Remove(%q): %v", name, err)
	}
	delete(m.want, name)
	m.delta--
}

// removeRandom removes n random names that link to the target.
func (m *model) removeRandom(t testing.TB, d *Dir, r *rand.Rand, n int) {
	t.Helper()
	var cands []string
	for _, name := range m.names() {
		if m.want[name].Inode == m.target.Inode {
			cands = append(cands, name)
		}
	}
	r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for _, name := range cands[:n] {
		m.remove(t, d, name)
	}
}

func newName(r *rand.Rand, tag string, i int) string {
	const alpha = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 1+r.Intn(60))
	for k := range b {
		b[k] = alpha[r.Intn(len(alpha))]
	}
	return fmt.Sprintf("%s-%s-%d", tag, b, i)
}

// runScenario plays scen on path's directory twice: in memory, to learn how
// many blocks it appends, then (after debugfs expand_dir made that many
// spare blocks) on a copy of the image, which must then pass e2fsck and
// list exactly the expected names. It returns the in-memory Dir.
func runScenario(t *testing.T, base, path string, scen func(t testing.TB, d *Dir, m *model)) *Dir {
	img := copyImage(t, base)
	tino, _ := inodeOf(t, img, "/target")
	fresh := func(d *Dir) *model {
		ents, err := d.Entries()
		if err != nil {
			t.Fatalf("Entries: %v", err)
		}
		m := &model{want: map[string]Entry{}, target: Entry{Inode: tino, Type: TypeRegular}}
		for _, e := range ents {
			m.want[e.Name] = e
		}
		return m
	}
	o := openOnImage(t, img, path)
	n := len(o.file.phys)
	mem := o.loadMem(t)
	dm, err := Open(mem, o.params)
	if err != nil {
		t.Fatal(err)
	}
	mm := fresh(dm)
	scen(t, dm, mm)
	sameEntries(t, "in memory", mustEntries(t, dm), mm.entries())

	if k := len(mem.blocks) - n; k > 0 {
		cmds := make([]string, k)
		for i := range cmds {
			cmds[i] = "expand_dir " + path
		}
		debugfs(t, img, true, cmds...)
		o = openOnImage(t, img, path)
		if len(o.file.phys) != n+k {
			t.Fatalf("expand_dir: %d blocks, want %d", len(o.file.phys), n+k)
		}
		o.file.spare = o.file.phys[n:]
		o.file.phys = o.file.phys[:n]
	}
	d, err := Open(o.file, o.params)
	if err != nil {
		t.Fatal(err)
	}
	m := fresh(d)
	scen(t, d, m)
	if len(o.file.spare) != 0 {
		t.Fatalf("%d spare blocks unused: the two runs differ", len(o.file.spare))
	}
	for l := range mem.blocks {
		b, _ := o.file.ReadBlock(uint32(l))
		if string(b) != string(mem.blocks[l]) {
			t.Fatalf("block %d differs between the in-memory and the image run", l)
		}
	}
	if d.Indexed() && !o.params.Indexed {
		// The directory became an htree: set EXT4_INDEX_FL as the caller must.
		st := debugfs(t, img, false, "stat "+path)
		flags, _ := strconv.ParseUint(reInode.FindStringSubmatch(st)[3], 0, 32)
		debugfs(t, img, true, fmt.Sprintf("sif %s flags %#x", path, flags|indexFlag))
	}
	addLinks(t, img, "/target", m.delta)
	fsckClean(t, img)
	sameEntries(t, "debugfs ls "+path, debugfsList(t, img, path), m.entries())
	return dm
}

func mustEntries(t testing.TB, d *Dir) []Entry {
	t.Helper()
	e, err := d.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	return e
}

func TestRemoveFromHtree(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			runScenario(t, fixture(t, bs), "/bigdir", func(t testing.TB, d *Dir, m *model) {
				mf, isMem := d.f.(*memFile)
				before := 0
				if isMem {
					before = mf.writes
				}
				m.removeRandom(t, d, rand.New(rand.NewSource(1)), 500)
				if isMem && mf.writes-before != 500 {
					t.Fatalf("500 removals wrote %d blocks, want one each", mf.writes-before)
				}
			})
		})
	}
}

func TestAddIntoSlack(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			runScenario(t, fixture(t, bs), "/bigdir", func(t testing.TB, d *Dir, m *model) {
				r := rand.New(rand.NewSource(2))
				m.removeRandom(t, d, r, 1000)
				n := d.f.Blocks()
				mf, isMem := d.f.(*memFile)
				for i := range 50 {
					before := 0
					if isMem {
						before = mf.writes
					}
					m.add(t, d, newName(r, "slack", i))
					if isMem && mf.writes-before != 1 {
						t.Fatalf("add into slack wrote %d blocks, want 1", mf.writes-before)
					}
				}
				if d.f.Blocks() != n {
					t.Fatalf("adds after removals grew the directory from %d to %d blocks", n, d.f.Blocks())
				}
				m.add(t, d, "slack-dup")
				if err := d.Add(Entry{Name: "slack-dup", Inode: m.target.Inode, Type: TypeRegular}); err == nil || !strings.Contains(err.Error(), "exists") {
					t.Fatalf("duplicate Add: %v", err)
				}
			})
		})
	}
}

// TestGrowHtree adds enough names to split leaves; at 1 KiB it also fills
// the root, so a level is added and an index node splits.
func TestGrowHtree(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			d := runScenario(t, fixture(t, bs), "/bigdir", func(t testing.TB, d *Dir, m *model) {
				r := rand.New(rand.NewSource(3))
				for i := range 4000 {
					m.add(t, d, newName(r, "grow", i))
					if i%1000 == 999 {
						m.removeRandom(t, d, r, 100)
					}
				}
			})
			_, root, err := d.root()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("levels %d, root entries %d, blocks %d", d.levels, len(root.entries), d.f.Blocks())
			if bs == 1024 && (d.levels != 1 || len(root.entries) < 2) {
				t.Fatalf("1 KiB: want a second level with a split node; levels %d, root entries %d", d.levels, len(root.entries))
			}
		})
	}
}

// TestLinearDir grows a small linear directory past one block and shrinks
// it again; it must stay linear.
func TestLinearDir(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			d := runScenario(t, fixture(t, bs), "/small", func(t testing.TB, d *Dir, m *model) {
				r := rand.New(rand.NewSource(4))
				for i := range bs / 16 {
					m.add(t, d, newName(r, "lin", i))
				}
				m.removeRandom(t, d, r, bs/64)
				for i := range 10 {
					m.add(t, d, newName(r, "again", i))
				}
			})
			if d.Indexed() || d.f.Blocks() < 2 {
				t.Fatalf("indexed %v, %d blocks: want a linear dir of several blocks", d.Indexed(), d.f.Blocks())
			}
		})
	}
}

// TestConvertToHtree lets Add index a full one-block linear directory, as
// the kernel does with dir_index, then keeps growing and shrinking it.
func TestConvertToHtree(t *testing.T) {
	t.Parallel()
	for _, bs := range blockSizes {
		t.Run(strconv.Itoa(bs), func(t *testing.T) {
			d := runScenario(t, fixture(t, bs), "/small", func(t testing.TB, d *Dir, m *model) {
				d.p.DirIndex = true
				r := rand.New(rand.NewSource(6))
				i := 0
				for ; !d.Indexed(); i++ {
					if d.f.Blocks() != 1 {
						t.Fatalf("linear dir grew to %d blocks instead of being indexed", d.f.Blocks())
					}
					m.add(t, d, newName(r, "conv", i))
				}
				for k := range bs / 8 {
					m.add(t, d, newName(r, "more", k))
				}
				m.removeRandom(t, d, r, bs/32)
			})
			if !d.Indexed() || d.f.Blocks() < 3 {
				t.Fatalf("indexed %v, %d blocks", d.Indexed(), d.f.Blocks())
			}
			if err := checkHtree(d); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNoCsumImage replays removal, growth and indexing on a filesystem
// without metadata_csum (no leaf tails, no dx tails).
func TestNoCsumImage(t *testing.T) {
	t.Parallel()
	base := fixtureWith(t, 1024, noCsum...)
	if readInfo(t, base).csum {
		t.Fatal("fixture has metadata_csum")
	}
	runScenario(t, base, "/bigdir", func(t testing.TB, d *Dir, m *model) {
		r := rand.New(rand.NewSource(8))
		m.removeRandom(t, d, r, 300)
		for i := range 3000 {
			m.add(t, d, newName(r, "nocsum", i))
		}
	})
	runScenario(t, base, "/small", func(t testing.TB, d *Dir, m *model) {
		d.p.DirIndex = true
		r := rand.New(rand.NewSource(9))
		for i := range 200 {
			m.add(t, d, newName(r, "conv", i))
		}
	})
}
