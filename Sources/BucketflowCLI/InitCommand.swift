import ArgumentParser
import Foundation
import Storage

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a commented starter workflow (and a credentials template) to begin from.",
        discussion: """
            Writes DIR/workflow.yaml (DIR: the current directory unless given) and a sample \
            file DIR/exports/hello.csv for it to upload. For s3 and b2 (B2's native API) it also writes a \
            credentials template, mode 600, into the hosted data area, where the workflow \
            reads it as data://.my/...: DATA/USER/S3Credentials/credentials.json (s3) or \
            DATA/USER/BackblazeCredentials/credentials.json (b2); DATA is --data-dir, else \
            $BUCKETFLOW_DATA_DIR, else $XDG_DATA_HOME/bucketflow/data, else \
            ~/.local/share/bucketflow/data. Fill in the keys, then:

              bucketflow validate DIR/workflow.yaml
              bucketflow plan DIR/workflow.yaml
              bucketflow run DIR/workflow.yaml

            It never overwrites: if any of the files exists, nothing is written and it exits 2.
            """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case local, s3, b2
    }

    @Argument(help: "local (a directory of buckets, no server), s3 (any S3-compatible store) or b2 (Backblaze B2).")
    var kind: Kind = .local

    @Argument(help: "Where to write workflow.yaml.", completion: .directory)
    var directory: String = "."

    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Root of the hosted data area for the credentials template.", valueName: "dir"))
    var dataDir: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let base = URL(fileURLWithPath: directory).standardizedFileURL
        let dataRoot = dataDir.map { URL(fileURLWithPath: $0).standardizedFileURL } ?? DataArea.defaultRoot(environment: environment)
        let user = DataArea.currentUserName(environment: environment)
        let template = StarterTemplates.files(for: kind, dataRoot: dataRoot, user: user)

        var files: [(url: URL, text: String, mode: mode_t)] = [
            (base.appendingPathComponent("workflow.yaml"), template.workflow, 0o644),
            (base.appendingPathComponent("exports/hello.csv"), StarterTemplates.sampleCSV, 0o644),
        ]
        if let credentials = template.credentials { files.append((credentials.url, credentials.text, 0o600)) }

        let existing = files.filter { FileManager.default.fileExists(atPath: $0.url.path) || (try? FileManager.default.destinationOfSymbolicLink(atPath: $0.url.path)) != nil }
        if !existing.isEmpty {
            Console.error("bucketflow: init: not overwriting \(existing.map { $0.url.path }.joined(separator: ", ")); remove \(existing.count == 1 ? "it" : "them") or choose another directory")
            throw ExitCodes.invalid
        }
        var written: [URL] = []
        do {
            for file in files {
                let folder = file.url.deletingLastPathComponent()
                let isPrivate = file.mode == 0o600
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: isPrivate ? [.posixPermissions: 0o700] : nil)
                try Self.create(file.url, text: file.text, mode: file.mode)
                written.append(file.url)
            }
        } catch {
            // Leave nothing half-made behind.
            for url in written { try? FileManager.default.removeItem(at: url) }
            Console.error("bucketflow: init: \(error)")
            throw ExitCodes.invalid
        }
        let workflowPath = directory == "." ? "workflow.yaml" : (directory as NSString).appendingPathComponent("workflow.yaml")
        Console.out("Wrote \(workflowPath) (\(kind.rawValue) starter) and \((directory as NSString).appendingPathComponent("exports/hello.csv"))")
        if let credentials = template.credentials {
            Console.out("Wrote \(credentials.url.path) (mode 600): put your \(kind == .b2 ? "Backblaze application key" : "access key") there")
        }
        Console.out("Next: bucketflow validate \(workflowPath) && bucketflow plan \(workflowPath) && bucketflow run \(workflowPath)")
    }

    /// Creates a new file with `mode` from the start (O_EXCL: never an existing one).
    static func create(_ url: URL, text: String, mode: mode_t) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw InitError(message: "cannot create \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // The umask may have narrowed the mode; the template's mode is what was asked.
        fchmod(fd, mode)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw InitError(message: "cannot write \(url.path): \(String(cString: strerror(errno)))") }
            offset += n
        }
    }

    struct InitError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// The starter files `bucketflow init` writes.
enum StarterTemplates {
    struct Files {
        var workflow: String
        var credentials: (url: URL, text: String)?
    }

    static let sampleCSV = "id,name,amount\n1,alpha,10\n2,beta,20\n3,gamma,30\n"

    static func files(for kind: InitCommand.Kind, dataRoot: URL, user: String) -> Files {
        switch kind {
        case .local:
            return Files(workflow: local, credentials: nil)
        case .s3:
            let url = dataRoot.appendingPathComponent(user).appendingPathComponent("S3Credentials/credentials.json")
            return Files(workflow: s3(credentialsPath: url.path), credentials: (url, """
                {
                  "aws_access_key_id": "REPLACE-WITH-YOUR-ACCESS-KEY-ID",
                  "aws_secret_access_key": "REPLACE-WITH-YOUR-SECRET-ACCESS-KEY"
                }

                """))
        case .b2:
            let url = dataRoot.appendingPathComponent(user).appendingPathComponent("BackblazeCredentials/credentials.json")
            return Files(workflow: b2(credentialsPath: url.path), credentials: (url, """
                {
                  "key_id": "REPLACE-WITH-YOUR-KEY-ID",
                  "application_key": "REPLACE-WITH-YOUR-APPLICATION-KEY"
                }

                """))
        }
    }

    static let steps = """
        steps:
          # Create the bucket unless it is there already.
          make-bucket:
            action: create-bucket
            bucket: remote://${{ vars.bucket }}
            if-exists: ok
          # A file, a directory or a glob, relative to this file. Reruns on the
          # same day move nothing (skip-unchanged).
          upload:
            action: upload
            needs: [make-bucket]
            from: exports/
            to: remote://${{ vars.bucket }}/daily/${{ run.date }}/
            skip-unchanged: true
          # Check what arrived; a failed expectation fails the run (exit 1).
          check:
            action: inspect
            needs: [upload]
            at: remote://${{ vars.bucket }}/daily/${{ run.date }}/hello.csv
            expect: { min-size: 1, content-type: text/csv }
          # List the folder; later steps can use ${{ steps.listing.outputs.count }}.
          listing:
            action: list
            needs: [upload]
            at: remote://${{ vars.bucket }}/daily/${{ run.date }}/

        """

    /// The steps, after a load-credentials step named `creds`.
    static func withCredentials(file: String, require: String) -> String {
        let creds = """
            steps:
              # Reads the keys and checks they are all there (the file must be private: chmod 600).
              creds:
                action: load-credentials
                from: data://.my/\(file)
                require: [\(require)]

            """
        return steps.replacingOccurrences(of: "steps:\n", with: creds)
    }

    static let usage = """
        # Check it:   bucketflow validate workflow.yaml
        # Preview:    bucketflow plan workflow.yaml      (changes nothing)
        # Run it:     bucketflow run workflow.yaml       (writes a JSON report)
        # Read it:    bucketflow report REPORT.json --html report.html
        """

    static let local = """
        # A starter bucketflow workflow on the local provider: a directory whose
        # sub-directories are buckets, so it runs with no server at all.
        \(usage)
        version: 1
        name: starter-local
        description: Upload exports/ under today's date, check it and list it
        vars:
          bucket: exports
        storage:
          remote:
            provider: local
            root: var/buckets          # relative to this file
        \(steps)
        """

    static func s3(credentialsPath: String) -> String {
        """
        # A starter bucketflow workflow for any S3-compatible store (AWS S3, MinIO,
        # Cloudflare R2, Wasabi, Backblaze B2's S3 API...).
        #
        # Credentials: put your keys in the file `bucketflow init` wrote (mode 600):
        #   \(credentialsPath)
        # The workflow reads it as data://.my/S3Credentials/credentials.json
        # (the hosted data area; another root with --data-dir).
        \(usage)
        #   Other endpoint or bucket: --var endpoint=https://... --var bucket=...
        version: 1
        name: starter-s3
        description: Upload exports/ to an S3 bucket under today's date, check it and list it
        vars:
          bucket: my-bucketflow-bucket
          region: us-east-1
          endpoint: https://s3.${{ vars.region }}.amazonaws.com
        storage:
          remote:
            provider: s3
            endpoint: ${{ vars.endpoint }}
            region: ${{ vars.region }}
            credentials: creds         # the load-credentials step below (implies `needs`)
        \(withCredentials(file: "S3Credentials/credentials.json", require: "aws_access_key_id, aws_secret_access_key"))
        """
    }

    /// Backblaze B2 through its native API (what the origin script uses).
    static func b2(credentialsPath: String) -> String {
        """
        # A starter bucketflow workflow for Backblaze B2, through B2's native API
        # (b2_authorize_account, b2_upload_file, ...). B2's S3-compatible endpoint
        # works too: provider: s3 with endpoint https://s3.REGION.backblazeb2.com.
        #
        # Credentials: put the application key Backblaze gave you in the file
        # `bucketflow init` wrote (mode 600):
        #   \(credentialsPath)
        # The workflow reads it as data://.my/BackblazeCredentials/credentials.json
        # (the hosted data area; another root with --data-dir).
        \(usage)
        version: 1
        name: starter-b2
        description: Upload exports/ to a B2 bucket under today's date, check it and list it
        vars:
          bucket: my-bucketflow-bucket
          endpoint: https://api.backblazeb2.com   # the authorization URL (tests point it at a local server)
        storage:
          remote:
            provider: b2
            endpoint: ${{ vars.endpoint }}
            credentials: creds         # the load-credentials step below (implies `needs`)
        \(withCredentials(file: "BackblazeCredentials/credentials.json", require: "key_id, application_key"))
        """
    }
}
