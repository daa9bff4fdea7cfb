// A few webtorrent `bittorrent-dht` nodes on loopback (an independent BEP-5 implementation
// without BEP-51): each binds its own 127.x.y.z, bootstraps from the given nodes, and announces
// its own random infohashes, so those are reachable only by listening to announces/lookups.
//
//   node wt_swarm.mjs --nodes 5 --net 127.0.2 --port 6881 --bootstrap 127.0.1.1:6881 \
//        --manifest wt.json --duration 300
// Prints "READY" once every node announced; writes {nodes: [...], infohashes: [...]}; exits by
// itself after --duration seconds or on SIGTERM.
import DHT from 'bittorrent-dht'
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    net: { type: 'string', default: '127.0.2' },
    port: { type: 'string', default: '6881' },
    bootstrap: { type: 'string', multiple: true, default: [] },
    manifest: { type: 'string' },
    duration: { type: 'string', default: '300' },
    'per-node': { type: 'string', default: '2' }
  }
})

const count = Number(args.nodes)
const port = Number(args.port)
const nodes = []
const infohashes = []

function listen (dht, host) {
  return new Promise((resolve, reject) => {
    dht.once('error', reject)
    dht.listen(port, host, () => resolve())
  })
}

function announce (dht, ih, peerPort) {
  return new Promise((resolve) => dht.announce(ih, peerPort, (err) => resolve(err)))
}

for (let i = 0; i < count; i++) {
  const host = `${args.net}.${i + 1}`
  const dht = new DHT({ bootstrap: args.bootstrap.concat(nodes.map(n => n.address)), host })
  dht.on('warning', () => {})
  await listen(dht, host)
  nodes.push({ dht, address: `${host}:${port}` })
}
await new Promise(resolve => setTimeout(resolve, 2000))

for (const [i, n] of nodes.entries()) {
  for (let k = 0; k < Number(args['per-node']); k++) {
    const ih = randomBytes(20)
    const err = await announce(n.dht, ih, 20000 + i)
    infohashes.push({ infohash: ih.toString('hex'), node: n.address, port: 20000 + i, error: err ? String(err) : null })
  }
}
if (args.manifest) {
  writeFileSync(args.manifest, JSON.stringify({ nodes: nodes.map(n => n.address), infohashes }, null, 1))
}
console.log('READY')

const stop = () => {
  for (const n of nodes) n.dht.destroy()
  console.log('DONE')
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setTimeout(stop, Number(args.duration) * 1000)
// Re-announce periodically: lookups through the DHT are how a listener learns these keys.
setInterval(async () => {
  for (const e of infohashes) {
    const n = nodes.find(x => x.address === e.node)
    await announce(n.dht, Buffer.from(e.infohash, 'hex'), e.port)
  }
}, 20000)
