import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.neo4j.configuration.GraphDatabaseSettings;
import org.neo4j.configuration.connectors.BoltConnector;
import org.neo4j.configuration.helpers.SocketAddress;
import org.neo4j.harness.Neo4j;
import org.neo4j.harness.Neo4jBuilders;

/**
 * A real, embedded Neo4j 5 (neo4j-harness) with only the Bolt connector, on 127.0.0.1:PORT, for DLOM's
 * backend tests. Usage: java Neo4jTestServer PORT WORKDIR. Prints "READY bolt://127.0.0.1:PORT" once the
 * database accepts connections, and shuts the database down cleanly on SIGTERM/SIGINT.
 * Auth is off (the harness default): it listens on loopback only and holds throw-away test data.
 */
public final class Neo4jTestServer {
    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Neo4jTestServer PORT WORKDIR");
            System.exit(2);
        }
        int port = Integer.parseInt(args[0]);
        Path workdir = Path.of(args[1]);
        Neo4j neo4j = Neo4jBuilders.newInProcessBuilder(workdir)
                .withDisabledServer() // no HTTP/Jetty: Bolt is all the Python driver needs
                .withConfig(BoltConnector.enabled, true)
                .withConfig(BoltConnector.listen_address, new SocketAddress("127.0.0.1", port))
                .withConfig(GraphDatabaseSettings.pagecache_memory, 512L * 1024 * 1024)
                .build();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            neo4j.close();
            stopped.countDown();
        }));
        System.out.println("READY " + neo4j.boltURI());
        System.out.flush();
        stopped.await();
    }
}
